//! Load → observe → decide → execute → commit, for one lifecycle command, with a
//! bounded retry when another writer commits first.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::executor::Executor;
use super::{Clients, ShellError};
use crate::config::Config;
use crate::lifecycle::{self, Command};
use crate::state::EnvironmentState;

/// How many times a lost race is decided again before giving up.
pub const MAX_ATTEMPTS: u32 = 3;

/// What running a command did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub summary: String,
    /// One line per action carried out.
    pub done: Vec<String>,
    pub state: EnvironmentState,
}

/// Runs one command to completion. On a conflict the state is reloaded and the command
/// decided again from what is true now; the actions already carried out are
/// idempotent (a scale to a count, a schedule by name), so the new decision finds them
/// done. A notification may be sent twice in that race.
pub async fn run(clients: &Clients, config: &Config, command: &Command, now: DateTime<Utc>) -> Result<Outcome, ShellError> {
    let executor = Executor::new(clients, config);
    let store = executor.store()?;
    let service = executor.service()?;
    let mut done = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let state = store.load(&config.environment).await?;
        let observed = service.observe().await?.observed();
        let decision = lifecycle::decide(&state, observed, command, now, config)?;
        done.extend(executor.execute(&decision.actions).await?);
        if decision.next_state == state {
            return Ok(Outcome {
                summary: decision.summary,
                done,
                state,
            });
        }
        match store.commit(&decision.next_state).await {
            Ok(state) => {
                return Ok(Outcome {
                    summary: decision.summary,
                    done,
                    state,
                });
            }
            Err(ShellError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ShellError::Conflict {
        environment: config.environment.clone(),
        attempts: MAX_ATTEMPTS,
    })
}
