//! What to decide after an action was refused.
