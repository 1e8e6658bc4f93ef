//! `stagingctl status | up | down | hold | release | unlock`: the same decisions the
//! lifecycle function makes, run against AWS (local when `AWS_ENDPOINT_URL` is set).

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use staging_core::Config;
use staging_core::decide::health::task_name;
use staging_core::decide::lifecycle::Command;
use staging_core::model::action::hold_schedule_name;
use staging_core::model::state::{BudgetLock, BudgetPeriod, Deployment, Health, Hold, Phase};
use staging_core::report::figures::{Figures, figures};
use staging_core::schedule::Transition;
use staging_core::shell::executor::Executor;
use staging_core::shell::github::{GitHubApi, resolve_webhook_secret};
use staging_core::shell::{Clients, runner};

use crate::error::CliError;

#[derive(clap::Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct UpArgs {
    /// Keep it up this long even outside business hours (default outside hours:
    /// STAGING_HOLD_DEFAULT).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    hold: Option<Duration>,
    /// Why, for the team.
    #[arg(long, default_value = "on demand")]
    reason: String,
    /// Start even though the budget locked the environment (lifts the lock).
    #[arg(long)]
    force: bool,
    /// Never end the hold early because staging is idle (STAGING_IDLE_STOP).
    #[arg(long)]
    keep: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
pub struct HoldArgs {
    /// How long to keep the environment up (cut to STAGING_HOLD_MAX).
    #[arg(value_name = "DURATION", value_parser = parse_duration)]
    duration: Duration,
    /// Why, for the team.
    #[arg(long, default_value = "emergency bypass")]
    reason: String,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
pub struct RollbackArgs {
    /// The task definition to go back to (`family:revision` or an ARN) [default: the
    /// last good one: the one that last ran healthy, or the one the last deploy replaced]
    #[arg(long, value_name = "TASKDEF")]
    to: Option<String>,
    /// Roll back even while a deploy is in flight (it will replace the rollback when it
    /// finishes).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
pub struct CommonArgs {
    /// Who is asking [default: $USER]
    #[arg(long)]
    who: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl CommonArgs {
    pub fn who(&self) -> String {
        self.who
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|w| !w.trim().is_empty())
            .unwrap_or_else(|| "stagingctl".into())
    }
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("`{s}` is not a duration like 2h or 90m ({e})"))
}

pub fn up(args: UpArgs) -> (Command, bool) {
    let who = args.common.who();
    (Command::Up { hold: args.hold, reason: args.reason, who, force: args.force, keep: args.keep }, args.common.json)
}

pub fn hold(args: HoldArgs) -> (Command, bool) {
    let who = args.common.who();
    (Command::Hold { duration: args.duration, reason: args.reason, who }, args.common.json)
}

pub fn down(args: CommonArgs) -> (Command, bool) {
    (Command::Down { who: args.who() }, args.json)
}

pub fn release(args: CommonArgs) -> (Command, bool) {
    (Command::Release { who: args.who() }, args.json)
}

pub fn unlock(args: CommonArgs) -> (Command, bool) {
    (Command::Unlock { who: args.who() }, args.json)
}

/// The AWS clients, the configuration with the webhook secret read from Secrets Manager
/// when `GITHUB_WEBHOOK_SECRET_ARN` names it, and the GitHub client (its token given, or
/// read from `GITHUB_TOKEN_ARN` when needed: a start or an unlock dispatches what waited).
pub async fn connect(config: &Config) -> Result<(Clients, Config, Option<GitHubApi>), CliError> {
    let sdk = staging_core::shell::sdk_config().await;
    let secrets = staging_core::shell::Lazy::from(aws_sdk_secretsmanager::Client::new(&sdk));
    let mut config = config.clone();
    resolve_webhook_secret(&secrets, &mut config.github).await?;
    let github = GitHubApi::with_secrets(&config.github, &secrets);
    Ok((Clients::new(&sdk), config, github))
}

/// Runs a lifecycle command now and reports what it did.
pub async fn run(config: &Config, command: Command, json: bool, out: &mut impl Write) -> Result<(), CliError> {
    let (clients, config, github) = connect(config).await?;
    let mut executor = Executor::new(&clients, &config);
    executor.github = github.as_ref();
    let outcome = runner::run(&executor, &command, Utc::now()).await?;
    print_outcome(&config, &outcome, json, out)
}

/// `stagingctl rollback [--to TASKDEF]`: points the service back at a task definition
/// (the core picks the last good one) and tells the team.
pub async fn rollback(config: &Config, args: RollbackArgs, out: &mut impl Write) -> Result<(), CliError> {
    let who = args.common.who();
    let clients = Clients::from_env().await;
    let executor = Executor::new(&clients, config);
    let now = Utc::now();
    let origin = staging_core::audit::Origin::new(
        staging_core::audit::Source::Operator,
        who.as_str(),
        format!(
            "rollback{}{}",
            args.to.as_deref().map(|t| format!(" --to {t}")).unwrap_or_default(),
            if args.force { " --force" } else { "" }
        ),
    );
    let outcome = runner::run_with(&executor, &origin, now, |state, observed| {
        staging_core::decide::health::decide_rollback(state, &observed, args.to.as_deref(), &who, args.force, now)
    })
    .await?;
    print_outcome(config, &outcome, args.common.json, out)
}

fn print_outcome(config: &Config, outcome: &runner::Outcome, json: bool, out: &mut impl Write) -> Result<(), CliError> {
    if json {
        return crate::write_json(out, &outcome);
    }
    writeln!(out, "{}: {}", config.environment, outcome.summary)?;
    for line in &outcome.done {
        writeln!(out, "  - {line}")?;
    }
    for line in &outcome.failed {
        writeln!(out, "  ! {line}")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Status {
    environment: String,
    phase: Phase,
    desired_count: u32,
    running_count: u32,
    pending_count: u32,
    rollout_state: Option<String>,
    hold: Option<Hold>,
    hold_schedule: Option<String>,
    budget_lock: Option<BudgetLock>,
    last_deployment: Option<Deployment>,
    deployment_in_flight: Option<Deployment>,
    pending_deployment: Option<Deployment>,
    health: Health,
    task_definition: Option<String>,
    /// Availability in business hours and MTTR this month (UTC), from the transitions.
    this_month: Figures,
    next_transition: Option<Transition>,
    /// `scale` or `stack` (STAGING_TEARDOWN).
    teardown: &'static str,
    /// What CloudFormation says about the pause stack (stack mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<staging_core::model::observed::StackObserved>,
    /// The pause stack's operation in progress, last failure and start durations.
    stack_state: staging_core::model::state::PauseStackState,
    version: u64,
}

pub async fn status(config: &Config, args: StatusArgs, out: &mut impl Write) -> Result<(), CliError> {
    let clients = Clients::from_env().await;
    let executor = Executor::new(&clients, config);
    let now: DateTime<Utc> = Utc::now();
    let state = executor.store()?.load(&config.environment).await?;
    // In stack mode a service that does not exist is paused with its stack.
    let service = match executor.service()?.observe().await {
        Ok(service) => service,
        Err(e) if config.teardown.pause_stack().is_some() && e.is_missing_service() => {
            staging_core::shell::ecs::ServiceStatus {
                arn: String::new(),
                desired_count: 0,
                running_count: 0,
                pending_count: 0,
                rollout_state: None,
                task_definition: None,
            }
        }
        Err(e) => return Err(e.into()),
    };
    let stack = match executor.pause_stack()? {
        Some(stack) => Some(stack.observe().await?),
        None => None,
    };
    let hold_schedule = match executor.schedules() {
        Ok(s) => s.get(&hold_schedule_name(&config.environment)).await?.map(|i| i.expression),
        Err(_) => None,
    };
    let status = Status {
        environment: config.environment.clone(),
        phase: service.observed().phase(),
        desired_count: service.desired_count,
        running_count: service.running_count,
        pending_count: service.pending_count,
        rollout_state: service.rollout_state.clone(),
        hold: state.active_hold(now).cloned(),
        hold_schedule,
        budget_lock: state.active_budget_lock(now).cloned(),
        last_deployment: state.last_deployment.clone(),
        deployment_in_flight: state.deployment_in_flight.clone(),
        pending_deployment: state.pending_deployment.clone(),
        health: state.health.clone(),
        task_definition: service.task_definition.clone(),
        this_month: figures(
            &state.health.transitions,
            &config.business_hours,
            BudgetPeriod::containing(now).bounds().0,
            now,
        ),
        next_transition: config.business_hours.next_transition(now),
        teardown: config.teardown.as_str(),
        stack,
        stack_state: state.stack.clone(),
        version: state.version,
    };
    if args.json {
        return crate::write_json(out, &status);
    }
    print_status(config, &status, out)
}

/// The human form of `status`: one line per part.
fn print_status(config: &Config, status: &Status, out: &mut impl Write) -> Result<(), CliError> {
    let secs = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    writeln!(
        out,
        "{}: {} ({} desired, {} running)",
        status.environment, status.phase, status.desired_count, status.running_count
    )?;
    if let (Some(name), Some(stack)) = (config.teardown.pause_stack(), &status.stack) {
        let mut line = format!("  stack {name}: {}", stack.status_text());
        if let Some(p) = status.stack_state.in_progress {
            line.push_str(&format!(" ({} asked at {})", p.operation, secs(p.since)));
        }
        if let Some(f) = &status.stack_state.failure {
            line.push_str(&format!("; last {} FAILED at {}: {}: {}", f.operation, secs(f.at), f.status, f.reason));
        }
        writeln!(out, "{line}")?;
    }
    match &status.hold {
        Some(h) => writeln!(out, "  hold: until {} by {} ({:?}): {}", secs(h.until), h.who, h.kind, h.reason)?,
        None => writeln!(out, "  hold: none")?,
    }
    match &status.budget_lock {
        Some(l) => writeln!(out, "  budget: LOCKED for {} since {}: {}", l.period, secs(l.locked_at), l.reason)?,
        None => writeln!(out, "  budget: not locked")?,
    }
    for (label, d) in [
        ("last deployment", &status.last_deployment),
        ("deploying", &status.deployment_in_flight),
        ("pending deployment", &status.pending_deployment),
    ] {
        if let Some(d) = d {
            let kind = d.deployment_type.map(|t| t.to_string()).unwrap_or_else(|| "nothing".into());
            writeln!(
                out,
                "  {label}: {} {kind} {:?} (pushes {})",
                staging_core::model::state::short_sha(&d.sha),
                d.status,
                d.push_list()
            )?;
        }
    }
    let since = status.health.since.map(|t| format!(" since {}", secs(t))).unwrap_or_default();
    writeln!(out, "  health: {:?}{since}", status.health.status)?;
    let f = &status.this_month;
    let availability =
        f.availability.map(|a| format!("{:.3} %", a * 100.0)).unwrap_or_else(|| "no business hours yet".into());
    let mttr = f
        .mttr_secs
        .map(|s| humantime::format_duration(Duration::from_secs(s.unsigned_abs())).to_string())
        .unwrap_or_else(|| "none".into());
    writeln!(
        out,
        "  this month: availability {availability} in business hours (target 99.9 %), {} outage{}, MTTR {mttr} (target < 10m)",
        f.outages,
        if f.outages == 1 { "" } else { "s" }
    )?;
    if let Some(td) = &status.task_definition {
        let good = status.health.last_good_task_definition.as_deref().map(task_name).unwrap_or("none yet");
        writeln!(out, "  task definition: {} (last good: {good})", task_name(td))?;
    }
    match status.next_transition {
        Some(t) => writeln!(out, "  next: {:?} at {}", t.kind, secs(t.at))?,
        None => writeln!(out, "  next: no scheduled transition")?,
    }
    Ok(())
}
