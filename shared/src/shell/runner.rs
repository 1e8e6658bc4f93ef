//! One invocation, as a reconciler: load → observe → decide → **commit** → act →
//! converge.
//!
//! The committed state is the intent. A lost race (the version moved) is decided again
//! from the winner's state, so nothing is done on the strength of a decision that was
//! not committed. After the commit the actions run (each idempotent, but the dispatch,
//! whose intent the state already records), then the reconciler reloads the state and
//! puts ECS (and the hold's schedule) right until they agree — so whichever invocation
//! acts last, ECS ends matching the last committed decision. A notification that fails
//! never undoes a decision; any other failure after the commit is a retryable error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ShellError;
use super::executor::{Executor, Report};
use super::scheduler::at_expression;
use super::store::Store;
use crate::audit::Origin;
use crate::decide::follow_up;
use crate::decide::lifecycle::{self, Command};
use crate::model::action::{Action, Decision};
use crate::model::observed::Observed;
use crate::model::state::EnvironmentState;

/// How many times a lost race is decided again before giving up (retryable).
pub const MAX_ATTEMPTS: u32 = 8;
/// How many rounds the reconciler takes to make the world match the state.
const CONVERGE_ROUNDS: u32 = 4;

/// What running a command did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub summary: String,
    /// One line per action carried out.
    pub done: Vec<String>,
    /// Notifications that could not be sent; the decision stands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    pub state: EnvironmentState,
}

/// Runs one lifecycle command to completion (see [`run_with`]), kept in the audit
/// trail as the command says (an operator's, a schedule's).
pub async fn run(executor: &Executor<'_>, command: &Command, now: DateTime<Utc>) -> Result<Outcome, ShellError> {
    let event = serde_json::to_value(command).expect("commands serialize");
    run_from(executor, &lifecycle::origin(command, &event), command, now).await
}

/// Runs one lifecycle command that came from `origin`.
pub async fn run_from(
    executor: &Executor<'_>,
    origin: &Origin,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<Outcome, ShellError> {
    // Boxed: the whole invocation nests deep enough to overflow the compiler's layout
    // queries for the Lambda main in a release build.
    Box::pin(run_with(executor, origin, now, |state, observed| {
        lifecycle::decide(state, observed, command, now, executor.config)
    }))
    .await
}

/// Decides with `decide`, commits, acts, converges (see the module's documentation),
/// and keeps the decision in the audit trail as coming from `origin`.
pub async fn run_with<F>(
    executor: &Executor<'_>,
    origin: &Origin,
    now: DateTime<Utc>,
    decide: F,
) -> Result<Outcome, ShellError>
where
    F: Fn(&EnvironmentState, Observed) -> crate::Result<Decision>,
{
    let store = executor.store()?;
    let decided = match decide_and_commit(executor, &store, Some((origin, now)), &decide).await {
        Ok(decided) => decided,
        Err(ShellError::Core(refusal)) => {
            // Refused (a start while locked, a hold past the cap): nothing changed, but
            // someone asked, so the trail says so.
            let mut report = Report::default();
            report.failed.push(super::executor::Failure { action: None, error: ShellError::Core(refusal.clone()) });
            let summary = format!("refused: {refusal}");
            keep(executor, &store, origin, now, &summary, &mut report, Trail::default()).await;
            return Err(ShellError::Core(refusal));
        }
        Err(e) => return Err(e),
    };
    let trail = Trail::of(&decided);
    let Decided { decision, state, observed, committed, intent_changed, .. } = decided;
    let mut report = executor.execute_all(&carried_out(executor, &decision.actions, now)).await;

    // Actions that failed after the decision was committed: the core decides what each
    // calls for (a refused dispatch, a failed repair, a refused stack operation), and
    // each follow-up is committed and told like any decision.
    let mut summary = decision.summary;
    let withheld = report.withheld.clone();
    for next in follow_up::after(&failures(&report, 0)) {
        let decided =
            follow_through(executor, &store, &mut report, Some((origin, now)), &|state: &EnvironmentState| {
                next.decide(state, &withheld, now, executor.config)
            })
            .await;
        if let Some(line) = decided {
            summary = next.summary(&summary, &line);
        }
    }
    for line in follow_up_stack_refusals(executor, &store, &mut report, Some(origin), 0, now).await {
        summary = format!("{summary}; {line}");
    }

    // Whoever changed the intent or acted on ECS or the schedules looks again until they
    // agree; an invocation that did neither (a push recorded, a health tick counted)
    // only checks what it observed moments ago, which costs no call.
    let touched_world = follow_up::touches_world(&decision.actions);
    let before_converging = report.failed.len();
    if touched_world || (committed && intent_changed) {
        converge(executor, &store, now, follow_up::touches_schedules(&decision.actions), &mut report).await;
    } else if lifecycle::reconcile_scaling(&state, &observed).is_some()
        || lifecycle::reconcile(&state, observed).is_some()
    {
        // The intent is as it was, but ECS and the state disagreed when this invocation
        // looked (a failed or overtaken action of an earlier one): put it right from
        // what is true now, not from that look, which a racing decision may have made
        // stale in the meantime.
        converge(executor, &store, now, false, &mut report).await;
    }
    // A pause or resume the reconciler made (a stack that was busy when decided) and was
    // refused: recorded and told the same way.
    for line in follow_up_stack_refusals(executor, &store, &mut report, Some(origin), before_converging, now).await {
        summary = format!("{summary}; {line}");
    }

    keep(executor, &store, origin, now, &summary, &mut report, trail).await;
    finish(summary, report, state)
}

/// The actions as this executor may carry them out: a function without CloudFormation
/// rights hands stack operations to the lifecycle function (the core says how); one
/// without Application Auto Scaling rights leaves the scalable target to the reconciler.
fn carried_out(executor: &Executor<'_>, actions: &[Action], now: DateTime<Utc>) -> Vec<Action> {
    let mut actions = if executor.stack_by_lifecycle {
        lifecycle::hand_off_stack_operations(actions, &executor.config.environment, now)
    } else {
        actions.to_vec()
    };
    if executor.leaves_scaling {
        actions.retain(|a| !matches!(a, Action::SetScalableTarget(_)));
    }
    actions
}

/// What the invocation's decision established, for its audit entry. (A follow-up
/// decision — a refused dispatch, a refused stack operation — is committed with an entry
/// of its own.)
#[derive(Debug, Default)]
struct Trail {
    events: Vec<crate::audit::Event>,
    /// The version it committed.
    version: Option<u64>,
    /// The audit item committed with it, which the entry replaces once it has acted.
    entry_id: Option<String>,
}

impl Trail {
    fn of(decided: &Decided) -> Self {
        if !decided.committed {
            return Self::default();
        }
        Self {
            events: crate::audit::events(&decided.before, &decided.state, &decided.decision.actions),
            version: Some(decided.state.version),
            entry_id: decided.entry_id.clone(),
        }
    }
}

/// Keeps the invocation's decision in the audit trail (unless the core says it is not
/// worth keeping), and prints its metrics when the executor is a Lambda function's. A
/// write that fails is reported with the notifications: the decision stands.
async fn keep(
    executor: &Executor<'_>,
    store: &Store<'_>,
    origin: &Origin,
    now: DateTime<Utc>,
    summary: &str,
    report: &mut Report,
    trail: Trail,
) {
    let errors: Vec<String> = report.failed.iter().map(|f| f.error.to_string()).collect();
    // Kept with the commit already: replaced, whatever was done since.
    if trail.entry_id.is_none()
        && !crate::audit::worth_keeping(origin.source, &trail.events, !report.done.is_empty(), !errors.is_empty())
    {
        return;
    }
    let entry = crate::audit::Entry {
        at: now,
        source: origin.source,
        who: origin.who.clone(),
        input: origin.input.clone(),
        summary: summary.to_string(),
        actions: report.done.clone(),
        errors,
        version: trail.version,
        events: trail.events,
    }
    .bounded();
    // An entry committed with the state had its metrics printed then.
    if trail.entry_id.is_none() {
        print_metrics(executor, &entry);
    }
    let environment = &executor.config.environment;
    let id = trail.entry_id.unwrap_or_else(|| Store::new_entry_id(environment, &entry));
    if let Err(e) = store.put_entry(environment, &id, &entry, executor.config.history_days).await {
        tracing::warn!(error = %e, "the decision was not kept in the audit trail; it stands");
        report.unkept = Some(e);
    }
}

/// Prints a decision's CloudWatch metrics (EMF lines) when the executor is a Lambda
/// function's.
fn print_metrics(executor: &Executor<'_>, entry: &crate::audit::Entry) {
    if executor.emit_metrics {
        for line in crate::report::metrics::for_entry(&executor.config.environment, entry) {
            println!("{line}");
        }
    }
}

/// The failures in `report.failed[from..]`, as the core's follow-up rules read them.
fn failures(report: &Report, from: usize) -> Vec<follow_up::Failed<'_>> {
    report
        .failed
        .iter()
        .skip(from)
        .filter_map(|f| {
            f.action.as_ref().map(|action| follow_up::Failed {
                action,
                refused: f.error.is_refusal(),
                retryable: f.error.is_retryable(),
                error: f.error.to_string(),
            })
        })
        .collect()
}

/// Commits and carries out a decision that follows a failed action (a refused dispatch,
/// a refused rollback), adding what it did to `report`; returns its summary, or `None`
/// when it could not be committed (the failure is in `report`).
async fn follow_through<F>(
    executor: &Executor<'_>,
    store: &Store<'_>,
    report: &mut Report,
    origin: Option<(&Origin, DateTime<Utc>)>,
    decide: &F,
) -> Option<String>
where
    F: Fn(&EnvironmentState) -> Decision,
{
    // Its own decision: committed with its own audit entry (from the same origin).
    match decide_and_commit(executor, store, origin, &|state: &EnvironmentState, _| Ok(decide(state))).await {
        Ok(decided) => {
            let decision = decided.decision;
            let now = origin.map_or_else(super::now, |(_, now)| now);
            let told = executor.execute_all(&carried_out(executor, &decision.actions, now)).await;
            report.done.extend(told.done);
            report.failed.extend(told.failed);
            Some(decision.summary)
        }
        Err(e) => {
            report_failure(report, None, e);
            None
        }
    }
}

/// Follows up, once per operation, the pauses and resumes of the stack among
/// `report.failed[from..]` that were refused ([`follow_up::stack_refusals`]). Returns the
/// follow-ups' summaries.
async fn follow_up_stack_refusals(
    executor: &Executor<'_>,
    store: &Store<'_>,
    report: &mut Report,
    origin: Option<&Origin>,
    from: usize,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for next in follow_up::stack_refusals(&failures(report, from)) {
        let decided = follow_through(executor, store, report, origin.map(|o| (o, now)), &|state: &EnvironmentState| {
            next.decide(state, &[], now, executor.config)
        })
        .await;
        lines.extend(decided);
    }
    lines
}

/// The outcome, or the failures that matter. Notifications that failed are reported
/// and do not fail the run.
fn finish(summary: String, report: Report, state: EnvironmentState) -> Result<Outcome, ShellError> {
    let (notices, failures): (Vec<_>, Vec<_>) = report.failed.into_iter().partition(|f| f.is_only_a_notification());
    let mut failed: Vec<String> = notices.into_iter().map(|f| f.error.to_string()).collect();
    failed.extend(report.unkept.map(|e| format!("not kept in the audit trail: {e}")));
    if failures.is_empty() {
        return Ok(Outcome { summary, done: report.done, failed, state });
    }
    Err(ShellError::AfterCommit {
        summary,
        done: report.done,
        failures: failures.into_iter().map(|f| f.error).collect(),
    })
}

/// A decision, the state it was made on, and what committing it did.
struct Decided {
    decision: Decision,
    /// The state the decision was made on.
    before: EnvironmentState,
    /// The state as committed (or `before`, when nothing changed).
    state: EnvironmentState,
    observed: Observed,
    committed: bool,
    /// The commit changed the intent (the phase).
    intent_changed: bool,
    /// The audit item committed with the state, when there is one.
    entry_id: Option<String>,
}

/// Load, observe, decide; commit unless nothing changed; on a lost race, again. With
/// `origin` (and the decision's clock), a decision worth keeping is committed together
/// with its audit item: the events it established, written or not with the state.
async fn decide_and_commit<F>(
    executor: &Executor<'_>,
    store: &Store<'_>,
    origin: Option<(&Origin, DateTime<Utc>)>,
    decide: &F,
) -> Result<Decided, ShellError>
where
    F: Fn(&EnvironmentState, Observed) -> crate::Result<Decision>,
{
    let environment = &executor.config.environment;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            backoff(attempt).await;
        }
        let state = store.load(environment).await?;
        let observed = executor.observe().await?;
        let decision = decide(&state, observed.clone())?;
        if decision.next_state == state {
            return Ok(Decided {
                decision,
                before: state.clone(),
                state,
                observed,
                committed: false,
                intent_changed: false,
                entry_id: None,
            });
        }
        // A never-written state holds no intent: its first commit sets one.
        let intent_changed = state.version == 0 || decision.next_state.phase != state.phase;
        let entry = origin.and_then(|(origin, now)| {
            let events = crate::audit::events(&state, &decision.next_state, &decision.actions);
            crate::audit::worth_keeping(origin.source, &events, !decision.actions.is_empty(), false).then(|| {
                crate::audit::Entry {
                    at: now,
                    source: origin.source,
                    who: origin.who.clone(),
                    input: origin.input.clone(),
                    summary: decision.summary.clone(),
                    actions: Vec::new(),
                    errors: Vec::new(),
                    version: Some(state.version + 1),
                    events,
                }
                .bounded()
            })
        });
        let written = match &entry {
            Some(entry) => {
                let id = Store::committed_entry_id(environment, entry, state.version + 1);
                match store.commit_with_entry(&decision.next_state, &id, entry, executor.config.history_days).await {
                    Ok(committed) => {
                        print_metrics(executor, entry);
                        Ok((committed, Some(id)))
                    }
                    // Refused for the entry's sake, not the state's (a lost race or a
                    // passing fault is decided or retried again): the audit trail must not
                    // stop the decision. Committed alone; the entry is written after acting.
                    Err(e) if !e.is_retryable() => {
                        tracing::warn!(error = %e, "the decision is committed without its audit entry");
                        store.commit(&decision.next_state).await.map(|committed| (committed, None))
                    }
                    Err(e) => Err(e),
                }
            }
            None => store.commit(&decision.next_state).await.map(|committed| (committed, None)),
        };
        match written {
            Ok((committed, entry_id)) => {
                return Ok(Decided {
                    decision,
                    before: state,
                    state: committed,
                    observed,
                    committed: true,
                    intent_changed,
                    entry_id,
                });
            }
            Err(ShellError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ShellError::Conflict { environment: environment.clone(), attempts: MAX_ATTEMPTS })
}

/// Makes ECS (and, when this invocation touched it, the hold's schedule) match the
/// state as stored *now*, round after round, until they agree. Level-triggered: it does
/// not matter whose decision it was or in which order invocations acted; whoever writes
/// to ECS last looks again afterwards.
pub async fn converge(
    executor: &Executor<'_>,
    store: &Store<'_>,
    now: DateTime<Utc>,
    check_schedule: bool,
    report: &mut Report,
) {
    // The last round only looks: it reports whether the rounds before were enough.
    for round in 0..=CONVERGE_ROUNDS {
        let state = match store.load(&executor.config.environment).await {
            Ok(s) => s,
            Err(e) => return report_failure(report, None, e),
        };
        let observed = match executor.observe().await {
            Ok(observed) => observed,
            Err(e) => return report_failure(report, None, e),
        };
        // Going down, the scalable target is parked before the service goes to zero; going
        // up, it is put back after the service is.
        let scaling = lifecycle::reconcile_scaling(&state, &observed).filter(|_| !executor.leaves_scaling);
        // A function that hands stack operations over has asked already (its decision's
        // handoff, and the stack check's own schedule): looking again cannot change it.
        let ecs = lifecycle::reconcile(&state, observed)
            .filter(|a| !(executor.stack_by_lifecycle && matches!(a, Action::ResumeStack | Action::PauseStack { .. })));
        let mut actions: Vec<Action> = match state.wants_running() {
            true => ecs.into_iter().chain(scaling).collect(),
            false => scaling.into_iter().chain(ecs).collect(),
        };
        if check_schedule {
            match missing_hold_schedule(executor, &state, now).await {
                Ok(put) => actions.extend(put),
                Err((put, e)) => return report_failure(report, Some(put), e),
            }
        }
        if actions.is_empty() {
            return;
        }
        if round == CONVERGE_ROUNDS {
            let e =
                ShellError::Conflict { environment: executor.config.environment.clone(), attempts: CONVERGE_ROUNDS };
            return report_failure(report, None, e);
        }
        let round = executor.execute_all(&actions).await;
        report.done.extend(round.done.into_iter().map(|l| format!("reconciled: {l}")));
        if !round.failed.is_empty() {
            report.failed.extend(round.failed);
            return;
        }
    }
}

/// The action that puts back the hold's end schedule when it is missing or stale
/// (one `GetSchedule`; none without a hold in force or without schedules configured).
async fn missing_hold_schedule(
    executor: &Executor<'_>,
    state: &EnvironmentState,
    now: DateTime<Utc>,
) -> Result<Option<Action>, (Action, ShellError)> {
    let Some(put) = crate::decide::draft::hold_schedule(state, now) else {
        return Ok(None);
    };
    let (Action::PutOneTimeSchedule { name, at, command }, Ok(schedules)) = (&put, executor.schedules()) else {
        return Ok(None);
    };
    let input = serde_json::to_string(command).expect("commands serialize");
    match schedules.get(name).await {
        Ok(Some(info)) if info.expression == at_expression(*at) && info.input.as_deref() == Some(input.as_str()) => {
            Ok(None)
        }
        Ok(_) => Ok(Some(put)),
        Err(e) => Err((put, e)),
    }
}

/// Puts back the end schedule of the hold in force if it went missing (what the
/// 5-minute health check does for every hold). Returns what it did.
pub async fn ensure_hold_schedule(executor: &Executor<'_>, now: DateTime<Utc>) -> Result<Vec<String>, ShellError> {
    // The state as stored now: a hold extended or released since this invocation
    // decided must not be put back as it was.
    let state = &executor.store()?.load(&executor.config.environment).await?;
    if state.active_hold(now).is_none() {
        return Ok(Vec::new());
    }
    let put = match missing_hold_schedule(executor, state, now).await {
        Ok(None) => return Ok(Vec::new()),
        Ok(Some(put)) => put,
        Err((_, e)) => return Err(e),
    };
    let report = executor.execute_all(&[put]).await;
    match finish(String::new(), report, state.clone()) {
        Ok(outcome) => Ok(outcome.done.into_iter().map(|l| format!("reconciled: {l}")).collect()),
        Err(e) => Err(e),
    }
}

/// Makes ECS match the stored state, deciding nothing: what any invocation that finds
/// them apart (the 5-minute health check among them) does. Returns what it did.
pub async fn reconcile(executor: &Executor<'_>, now: DateTime<Utc>) -> Result<Vec<String>, ShellError> {
    let store = executor.store()?;
    let mut report = Report::default();
    converge(executor, &store, now, true, &mut report).await;
    // Reconciling decides nothing of its own, so it keeps no audit entry; a refusal
    // followed up here is committed without one (only the tests reconcile on their own:
    // the functions converge inside a decision, which keeps its entry).
    let told = follow_up_stack_refusals(executor, &store, &mut report, None, 0, now).await;
    report.done.extend(told);
    match finish(String::from("reconcile"), report, EnvironmentState::new(&executor.config.environment)) {
        Ok(outcome) => Ok(outcome.done),
        Err(e) => Err(e),
    }
}

/// A failure of the reconciler itself (reading the state or ECS), or of `action`.
fn report_failure(report: &mut Report, action: Option<Action>, error: ShellError) {
    report.failed.push(super::executor::Failure { action, error });
}

/// A short, jittered pause before deciding again after a lost race, so that racing
/// invocations spread out instead of colliding again.
async fn backoff(attempt: u32) {
    use std::hash::BuildHasher;
    let jitter = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now()) % 25;
    let base = 5u64 << attempt.min(4);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}
