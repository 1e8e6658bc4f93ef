//! What a push to the branch, or a run of the deploy workflow requested or finished, means
//! for the environment: the next state and the actions, built with a [`Draft`].

use chrono::{DateTime, Utc};

use super::files::{ChangedFiles, FilesSource};
use super::payload::{Push, WorkflowRun};
use crate::config::Config;
use crate::decide::draft::Draft;
use crate::error::Result;
use crate::model::action::{Action, Decision, Notification, NotificationEvent, Severity};
use crate::model::observed::Observed;
use crate::model::state::{BudgetLock, DeploymentStatus, EnvironmentState, HoldKind, RunOutcome, short_sha};
use crate::scope::{DeploymentPlan, DeploymentType, FilterMatches};
use crate::time::{hhmm, whole_seconds};

/// How many files per filter a notification lists.
const FILES_SHOWN: usize = 10;

/// A push, classified.
pub struct PushInput<'a> {
    pub push: &'a Push,
    pub files: &'a ChangedFiles,
    pub matches: &'a FilterMatches<'a>,
}

impl PushInput<'_> {
    /// The plan: the filters' for a trusted list, everything for a fallback.
    pub fn plan(&self) -> DeploymentPlan {
        match self.files.source {
            FilesSource::Full => DeploymentPlan::FULL,
            _ => self.matches.plan(),
        }
    }
}

/// What a push to the branch means now. Nothing to deploy → nothing done. A push seen
/// before (a redelivery, or the same signed body under a new delivery id) → nothing
/// but retrying a dispatch GitHub refused. Otherwise the push merges into the pending
/// deployment; locked by the budget → it waits, the team told once; else staging is
/// woken if needed (held outside business hours) and the pending deployment dispatched
/// unless a run is in flight (then it goes when that run reports). Without a token:
/// recorded and told, not dispatched (dry mode).
pub fn decide_push(
    state: &EnvironmentState,
    observed: Observed,
    input: &PushInput<'_>,
    now: DateTime<Utc>,
    config: &Config,
) -> Result<Decision> {
    let now = whole_seconds(now);
    let push = input.push;
    let plan = input.plan();
    let mut p = Draft::new(state, observed, now, config);
    let Some(deployment_type) = plan.deployment_type() else {
        return Ok(p.into_decision("validation only: nothing to deploy".into()));
    };
    let env = p.next.environment.clone();
    let sha = push.after.clone();
    let key = push.key();
    if p.next.knows_push(&key) {
        let whereabouts = where_is(&p.next, &sha);
        p.quiet = true;
        let retried = p.dispatch_pending().map(|line| format!("; {line}")).unwrap_or_default();
        return Ok(p.into_decision(format!("already received: {} is {whereabouts}{retried}", short_sha(&sha))));
    }
    p.next.remember_push(key);
    let was_waiting = p.next.pending_deployment.is_some();
    p.next.queue_deployment(&sha, plan, now);

    if let Some(lock) = p.next.active_budget_lock(now).cloned() {
        let summary = wait_for_budget_lock(&mut p, &lock, input, plan, deployment_type, was_waiting);
        return Ok(p.into_decision(summary));
    }

    p.quiet = true;
    let woke = wake_for_deploy(&mut p, push, &sha, now, config)?;
    let dispatched = p.dispatch_pending();
    p.quiet = false;

    let (verb, summary, extra) = deploy_outcome(&p, &dispatched, deployment_type, now, config);
    let subject = format!(
        "{env}: {verb} {deployment_type} @ {} ({} file{})",
        short_sha(&sha),
        input.files.files.len(),
        if input.files.files.len() == 1 { "" } else { "s" }
    );
    let mut body = describe_push(input, plan, deployment_type);
    let already = if p.stack_starting().is_some() { "staging was already starting" } else { "staging was already up" };
    body.push_str(&format!("\n{}", woke.as_deref().unwrap_or(already)));
    if let Some(extra) = extra {
        body.push_str(&format!("\n{extra}"));
    }
    p.actions.push(Action::Notify(Notification::new(NotificationEvent::DeployPlanned, Severity::Info, subject, body)));
    Ok(p.into_decision(summary))
}

/// `decide_push`, locked by the budget: the push waits in the pending deployment and the
/// team is told once, by the first push that waits. The decision's summary.
fn wait_for_budget_lock(
    p: &mut Draft<'_>,
    lock: &BudgetLock,
    input: &PushInput<'_>,
    plan: DeploymentPlan,
    deployment_type: DeploymentType,
    was_waiting: bool,
) -> String {
    let env = p.next.environment.clone();
    let sha = &input.push.after;
    let waiting = p.next.pending_deployment.clone().expect("just queued");
    if !was_waiting {
        let subject = format!("{env}: deploy of {} waits for the budget lock", short_sha(sha));
        let body = format!(
            "{}\n\nStaging is locked by the budget for {} ({}); nothing was started or deployed.\n\
             Every push until then is merged into one deploy, dispatched when the lock is lifted: run \
             `stagingctl unlock` (or `stagingctl up --force`), or wait for the next budget period.",
            describe_push(input, plan, deployment_type),
            lock.period,
            lock.reason
        );
        p.actions.push(Action::Notify(Notification::new(
            NotificationEvent::DeployPending,
            Severity::Warning,
            subject,
            body,
        )));
    }
    format!(
        "locked by the budget: {} pending ({} push{})",
        waiting.deployment_type.map(|t| t.to_string()).unwrap_or_default(),
        waiting.pushes.len(),
        if waiting.pushes.len() == 1 { "" } else { "es" }
    )
}

/// `decide_push`: staging woken for the deploy if it is not meant to be running (held
/// outside business hours), or started again if it is meant to run but does not. What was
/// done, for the notification; `None` when staging was meant to be up already.
fn wake_for_deploy(
    p: &mut Draft<'_>,
    push: &Push,
    sha: &str,
    now: DateTime<Utc>,
    config: &Config,
) -> Result<Option<String>> {
    // Waking is about the committed intent, not the moment's ECS count: a teardown that
    // committed "down" and has not scaled yet is down all the same.
    let woke = if p.next.wants_running() {
        if p.observed.desired_count == 0 {
            // Meant to run but not running (an action not yet carried out): put it right.
            p.start("woken for a deploy");
        }
        None
    } else if config.business_hours.is_up_time(now) {
        p.start("woken for a deploy");
        Some("staging was down and has been started".to_string())
    } else {
        let who = if push.pusher().is_empty() { "github" } else { push.pusher() };
        let held = p.hold(HoldKind::OnDemand, config.hold_default, &format!("deploy {}", short_sha(sha)), who)?;
        p.start("woken for a deploy");
        Some(format!("staging was down and has been started, {held} (outside business hours)"))
    };
    Ok(woke)
}

/// `decide_push`, once the pending deployment was dispatched or not: the notification's
/// verb, the decision's summary, and a line for the notification's body.
fn deploy_outcome(
    p: &Draft<'_>,
    dispatched: &Option<String>,
    deployment_type: DeploymentType,
    now: DateTime<Utc>,
    config: &Config,
) -> (&'static str, String, Option<String>) {
    let grace = p.grace();
    match (dispatched, p.next.active_deployment(now, grace)) {
        (Some(line), _) => ("deploying", line.clone(), None),
        // Stack mode: the pause stack is being created; the deploy goes at `up`.
        (None, None)
            if config.github.can_dispatch()
                && let Some(ready) = p.stack_starting() =>
        {
            let queued = p.next.pending_deployment.as_ref().expect("just queued");
            let line = format!(
                "pending until staging is up (expected about {}): {}, {} push{}",
                hhmm(ready),
                queued.deployment_type.map(|t| t.to_string()).unwrap_or_default(),
                queued.pushes.len(),
                if queued.pushes.len() == 1 { "" } else { "es" }
            );
            let extra = format!(
                "Staging's stack is being created; it is expected to be ready about {} ({}). The deploy is dispatched \
                 as soon as it is up.",
                hhmm(ready),
                if p.stack_ready_estimate().1 {
                    "from the last starts"
                } else {
                    "about 10 minutes: no start recorded yet"
                }
            );
            ("waiting to deploy", line, Some(extra))
        }
        (None, Some(running)) if config.github.can_dispatch() => {
            let queued = p.next.pending_deployment.as_ref().expect("just queued");
            let since = running.started_at.map(hhmm).unwrap_or_else(|| "earlier".into());
            let line = format!(
                "queued behind the run for {} (dispatched at {since}): {} pending, {} push{}",
                short_sha(&running.sha),
                queued.deployment_type.map(|t| t.to_string()).unwrap_or_default(),
                queued.pushes.len(),
                if queued.pushes.len() == 1 { "" } else { "es" }
            );
            ("queued", line.clone(), Some(format!("{line}; it is dispatched when that run reports.")))
        }
        _ => (
            "would deploy",
            format!("dry mode (no GitHub token): {deployment_type} recorded, not dispatched"),
            Some("Dry mode: no GitHub token is configured, so the workflow was not dispatched.".to_string()),
        ),
    }
}

/// Where a push's commit is now, for the answer to a push seen again.
fn where_is(state: &EnvironmentState, sha: &str) -> &'static str {
    let has =
        |d: &Option<crate::model::state::Deployment>| d.as_ref().is_some_and(|d| d.pushes.iter().any(|p| p == sha));
    if has(&state.deployment_in_flight) {
        "being deployed"
    } else if has(&state.pending_deployment) {
        "pending"
    } else if has(&state.last_deployment) {
        "deployed"
    } else {
        "taken already"
    }
}

/// The body lines every deploy notification starts with.
fn describe_push(input: &PushInput<'_>, plan: DeploymentPlan, deployment_type: DeploymentType) -> String {
    let push = input.push;
    let mut body = format!(
        "{} pushed {} commit{} to {} ({}).\nPlan: {plan} -> deployment-type {deployment_type}\n",
        if push.pusher().is_empty() { "someone" } else { push.pusher() },
        push.commits.len(),
        if push.commits.len() == 1 { "" } else { "s" },
        push.branch().unwrap_or(&push.git_ref),
        short_sha(&push.after),
    );
    for commit in push.commits.iter().take(5) {
        let title = commit.message.lines().next().unwrap_or_default();
        body.push_str(&format!("  {} {title}\n", short_sha(&commit.id)));
    }
    if push.commits.len() > 5 {
        body.push_str(&format!("  … and {} more commits\n", push.commits.len() - 5));
    }
    match (&input.files.source, &input.files.reason) {
        (FilesSource::Full, Some(reason)) => body.push_str(&format!("Files: full deployment, because {reason}\n")),
        (source, _) => body.push_str(&format!("Files: {} from the {source:?} list\n", input.files.files.len())),
    }
    for (filter, files) in input.matches.iter().filter(|(_, f)| !f.is_empty()) {
        body.push_str(&format!("  {filter} ({}):\n", files.len()));
        for file in files.iter().take(FILES_SHOWN) {
            body.push_str(&format!("    {file}\n"));
        }
        if files.len() > FILES_SHOWN {
            body.push_str(&format!("    … and {} more\n", files.len() - FILES_SHOWN));
        }
    }
    if let Some(url) = &push.compare {
        body.push_str(&format!("Compare: {url}\n"));
    }
    body
}

/// How far a run's own clock may be behind ours when matching it to a dispatch.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(2);

/// Whether a finished run is the one dispatched for `d`: a `workflow_dispatch` run
/// created after the dispatch (a dispatch runs the branch head, so the sha need not
/// match); without timestamps, the same sha.
fn is_run_of(run: &WorkflowRun, d: &crate::model::state::Deployment, state: &EnvironmentState) -> bool {
    if run.event.as_deref().is_some_and(|e| e != "workflow_dispatch") {
        return false;
    }
    // Its id, once known (from its `requested` delivery, or a run tracked by hand).
    if let Some(id) = d.run_id {
        return run.id == Some(id);
    }
    // A re-run (keeping its first `created_at`) is never a dispatch of ours, nor is a run
    // whose `requested` was seen and judged someone else's.
    if run.run_attempt.unwrap_or(1) > 1 || state.knows_run(&run.key()) {
        return false;
    }
    match (d.started_at, run.created_at.or(run.run_started_at)) {
        (Some(dispatched), Some(created)) => dispatched.checked_sub_signed(CLOCK_SKEW).is_none_or(|t| created >= t),
        _ => run.head_sha == d.sha,
    }
}

/// How close to our dispatch the run it started is created (GitHub creates it at once).
const DISPATCH_TO_RUN: chrono::Duration = chrono::Duration::minutes(2);

/// A `workflow_dispatch` run of the deploy workflow was requested. One we dispatched (the
/// run in flight, created within two minutes of its dispatch) changes nothing. One a
/// person started by hand ("Run workflow" in GitHub, no AWS credentials needed) wakes
/// staging like `stagingctl up` — held for `STAGING_HOLD_DEFAULT` outside business hours,
/// refused while the budget locks staging (told, since the run goes on without it) — and
/// is tracked as the deployment in flight, so the teardown waits for it and its outcome
/// is told; a run already in flight is left alone (this one is not tracked).
pub fn decide_deploy_requested(
    state: &EnvironmentState,
    observed: Observed,
    run: &WorkflowRun,
    now: DateTime<Utc>,
    config: &Config,
) -> Result<Decision> {
    let now = whole_seconds(now);
    let mut p = Draft::new(state, observed, now, config);
    let env = state.environment.clone();
    let link = run.html_url.as_deref().unwrap_or("(no link)");
    let key = run.key();
    // Delivered again, or after its `completed` (GitHub does not order deliveries).
    if state.knows_run(&key)
        || state
            .last_deployment
            .as_ref()
            .is_some_and(|d| d.run_id.is_some() && d.run_id == run.id && run.run_attempt.unwrap_or(1) <= 1)
    {
        return Ok(p.into_decision(format!("ignored: run {key} was already handled")));
    }
    p.next.remember_run(key.clone());
    let created = run.created_at.map(whole_seconds);
    if let Some(d) = p.next.deployment_in_flight.as_mut() {
        if d.run_id.is_some() && d.run_id == run.id {
            return Ok(p.into_decision(format!("ignored: run {key} is already tracked")));
        }
        // Ours: the run in flight is a dispatch of ours whose run has not reported, and
        // this one was created within minutes of that dispatch (without timestamps, the
        // same commit). Its id is kept, so that its outcome is known by id.
        let ours = d.by_hand.is_none()
            && d.run_id.is_none()
            && run.run_attempt.unwrap_or(1) == 1
            && match (d.started_at, created) {
                (Some(dispatched), Some(created)) => (created - dispatched).abs() <= DISPATCH_TO_RUN,
                _ => run.head_sha == d.sha,
            };
        if ours {
            d.run_id = run.id;
            d.run_url = run.html_url.clone();
            let summary = format!("ignored: the run of our dispatch for {} started ({key})", short_sha(&d.sha));
            return Ok(p.into_decision(summary));
        }
    }
    let who = run.started_by().to_string();
    let sha = short_sha(&run.head_sha);
    if let Some(lock) = p.next.active_budget_lock(now) {
        let subject = format!("{env}: {who} ran the deploy by hand, but staging is locked by the budget");
        let body = format!(
            "{who} started the deploy workflow by hand @ {sha}, but {env} is locked by the budget ({}: {}); it stays \
             down and the run will find no service to deploy to. `stagingctl unlock` (or `up --force`) lifts the lock.\nRun: {link}",
            lock.period, lock.reason
        );
        p.notify(NotificationEvent::DeployStarted, Severity::Warning, subject, body);
        return Ok(p.into_decision("not starting: locked by the budget".into()));
    }
    let mut summary = p.start_on_demand(None, &format!("deploy workflow run by hand @ {sha}"), &who)?;
    let grace = p.grace();
    if let Some(stale) = p.next.give_up_stale_run(now, grace) {
        summary.push_str(&format!("; the run for {} never reported and gives way", short_sha(&stale.sha)));
    }
    let tracked = p.next.deployment_in_flight.is_none();
    if tracked {
        // A re-run keeps its first `created_at`: it started at the latest of the two.
        let started = match (created, run.run_started_at.map(whole_seconds)) {
            (Some(c), Some(s)) => c.max(s),
            (c, s) => c.or(s).unwrap_or(now),
        };
        let mut d = crate::model::state::Deployment::started_by_hand(
            &run.head_sha,
            &who,
            run.id,
            run.html_url.clone(),
            started.min(now),
            now,
        );
        d.task_definition_before = p.observed.task_definition.clone();
        p.next.deployment_in_flight = Some(d);
        summary.push_str(&format!("; tracking run {key} by {who}"));
    } else {
        summary.push_str("; a deploy is already in flight: this run is not tracked");
    }
    let subject = format!("{env}: {who} started the deploy by hand @ {sha}");
    let body = format!(
        "{who} started the deploy workflow by hand on {} @ {sha}. {}\nRun: {link}",
        config.github.branch,
        if tracked {
            "staging-control tracks the run: the teardown waits for it and its outcome will be told."
        } else {
            "Another deploy is in flight; this run's outcome is told only if it fails."
        }
    );
    p.notify(NotificationEvent::DeployStarted, Severity::Info, subject, body);
    Ok(p.into_decision(summary))
}

/// The deploy workflow finished. The run in flight → recorded with the commit it built
/// (said when newer than the push), told (info on success, critical with the run's
/// link otherwise), and the deploy that waited behind it dispatched. A run we were not
/// waiting for changes nothing, but a failed one is still told.
pub fn decide_deploy_finished(
    state: &EnvironmentState,
    observed: Observed,
    run: &WorkflowRun,
    now: DateTime<Utc>,
    config: &Config,
) -> Decision {
    let now = whole_seconds(now);
    let mut p = Draft::new(state, observed, now, config);
    let env = state.environment.clone();
    let conclusion = run.conclusion.as_deref().unwrap_or("unknown");
    let status = DeploymentStatus::from_conclusion(conclusion);
    let link = run.html_url.as_deref().unwrap_or("(no link)");
    let duration = match (run.run_started_at, run.updated_at) {
        (Some(start), Some(end)) if end >= start => Some((end - start).num_seconds()),
        _ => None,
    };
    let ours = state.deployment_in_flight.as_ref().is_some_and(|d| is_run_of(run, d, state));
    // Its `requested`, should it come after this, changes nothing.
    p.next.remember_run(run.key());
    if !ours {
        if status == DeploymentStatus::Succeeded {
            return p.into_decision(format!("ignored: {} is not the run in flight", short_sha(&run.head_sha)));
        }
        let subject = format!("{env}: deploy run {conclusion} @ {}", short_sha(&run.head_sha));
        let body = format!(
            "A run of the deploy workflow that staging-control was not waiting for (started by hand, or \
             given up on after the grace period) finished: {conclusion}.\nRun: {link}"
        );
        p.notify(NotificationEvent::DeployFailed, Severity::Critical, subject, body);
        return p.into_decision(format!("not the run in flight: {conclusion} told"));
    }
    let outcome = RunOutcome {
        status,
        built_sha: run.head_sha.clone(),
        run_url: run.html_url.clone(),
        run_id: run.id,
        duration_secs: duration,
    };
    let after = (status == DeploymentStatus::Succeeded).then(|| p.observed.task_definition.clone()).flatten();
    let finished = match p.next.deployment_finished(outcome, now) {
        Ok(d) => {
            d.task_definition_after = after;
            d.clone()
        }
        Err(e) => return p.into_decision(format!("ignored: {e}")),
    };
    let took = duration
        .map(|s| format!(" in {}", humantime::format_duration(std::time::Duration::from_secs(s.unsigned_abs()))))
        .unwrap_or_default();
    let kind = finished.deployment_type.map(|t| t.to_string()).unwrap_or_else(|| "deploy".into());
    let (severity, event, verdict) = if status == DeploymentStatus::Succeeded {
        (Severity::Info, NotificationEvent::DeploySucceeded, "succeeded")
    } else {
        (Severity::Critical, NotificationEvent::DeployFailed, conclusion)
    };
    let mut body = format!(
        "The deploy workflow for {} finished: {conclusion}{took}.\nPushes: {}\nRun: {link}",
        short_sha(&finished.sha),
        finished.push_list()
    );
    if run.head_sha != finished.sha {
        body.push_str(&format!(
            "\nThe run built {}, the branch head when it started, which is newer than the push's {}.",
            short_sha(&run.head_sha),
            short_sha(&finished.sha)
        ));
    }
    p.quiet = true;
    let next = p.dispatch_pending();
    p.quiet = false;
    if let Some(line) = &next {
        body.push_str(&format!("\nNext: {line}."));
    }
    let subject = format!("{env}: {kind} {verdict} @ {}{took}", short_sha(&run.head_sha));
    p.actions.insert(0, Action::RecordDeployment(finished));
    p.notify(event, severity, subject, body);
    let mut summary = match next {
        Some(line) => format!("deploy {verdict}; {line}"),
        None => format!("deploy {verdict}"),
    };
    // The teardown that waited for this deploy goes ahead now rather than at its next look.
    if let Some(stop) = p.deferred_teardown_due() {
        summary.push_str(&format!("; {stop}"));
    }
    p.into_decision(summary)
}
