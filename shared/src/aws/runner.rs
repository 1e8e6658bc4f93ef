//! Load → observe → decide → execute → commit, for one lifecycle command, with a
//! bounded retry when another writer commits first.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::executor::Executor;
use super::{Clients, ShellError};
use crate::action::Decision;
use crate::config::Config;
use crate::lifecycle::{self, Command, Observed};
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

/// Runs one command to completion (see [`run_with`]).
pub async fn run(clients: &Clients, config: &Config, command: &Command, now: DateTime<Utc>) -> Result<Outcome, ShellError> {
    run_with(&Executor::new(clients, config), |state, observed| {
        lifecycle::decide(state, observed, command, now, config)
    })
    .await
}

/// Loads the state, observes ECS, asks `decide`, carries out the actions and commits.
/// On a conflict the state is reloaded and `decide` asked again from what is true now;
/// an action this invocation already carried out (the same dispatch, the same
/// notification) is not carried out again.
pub async fn run_with<F>(executor: &Executor<'_>, decide: F) -> Result<Outcome, ShellError>
where
    F: Fn(&EnvironmentState, Observed) -> crate::Result<Decision>,
{
    let config = executor.config;
    let store = executor.store()?;
    let service = executor.service()?;
    let mut done = Vec::new();
    let mut carried_out: Vec<crate::Action> = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let state = store.load(&config.environment).await?;
        let observed = service.observe().await?.observed();
        let decision = decide(&state, observed)?;
        let fresh: Vec<crate::Action> = decision
            .actions
            .iter()
            .filter(|a| !carried_out.contains(a))
            .cloned()
            .collect();
        done.extend(executor.execute(&fresh).await?);
        carried_out.extend(fresh);
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
