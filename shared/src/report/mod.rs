//! What staging costs and how it ran: the cost model, the daily report, the month's
//! figures and its page, and the metrics the functions write.

pub mod cost;
pub mod daily;
pub mod figures;
pub mod front_door;
pub mod metrics;
pub mod month;
pub mod month_html;
