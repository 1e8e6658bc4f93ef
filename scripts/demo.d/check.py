"""Checks the timeline `scripts/demo [--stack] --json FILE` wrote against the day's scenario: for
every step in order, the ECS desired count after it, the notification events the team
received (in order, with severity where it matters) and the workflow dispatches GitHub
received. Exits 1 naming every difference.

    python3 scripts/demo.d/check.py FILE
"""
import json
import sys

# (what happened, ECS desired after, notifications "event[:severity]", dispatched deployment
# types, what the decision says)
SCENARIO = [
    ("the evening before: scheduled teardown", 0, ["env.teardown"], [], "stopping"),
    ("scheduled startup", 1, ["env.startup"], [], "starting"),
    ("push to develop: apps/express-api (backend only)", 1, ["deploy.planned"], ["backend-only"], "202 dispatched backend-only for 1 push"),
    ("push to develop: docs only", 1, [], [], "200 validation only: nothing to deploy"),
    ("the deploy workflow finishes: success", 1, ["deploy.succeeded"], [], "200 deploy succeeded"),
    ("health check: the app answers", 1, [], [], "all fine; unknown -> healthy"),
    ("health check: the app answers 503", 1, [], [], "failing: app: HTTP 503"),
    ("health check: still 503", 1, ["health.down:critical"], [], "healthy -> unhealthy"),
    ("health check: the app is back", 1, [], [], "all fine"),
    ("health check: still answering", 1, ["health.resolved"], [], "unhealthy -> healthy"),
    ("dave runs the deploy workflow by hand (Run workflow)", 1, ["deploy.started:info"], [], "tracking run 30433700#1 by dave"),
    ("dave's run finishes: success", 1, ["deploy.succeeded"], [], "200 deploy succeeded"),
    ("scheduled teardown", 0, ["env.teardown"], [], "stopping"),
    # The evening: the front door, a wake by invitation, the idle stop.
    ("erin opens staging: asleep, no invite", 0, [], [], "503 asleep"),
    ("erin presses Wake without an invite", 0, [], [], "401 asleep: waking staging needs an invite"),
    ("Slack unfurls erin's invite link (a link preview)", 0, [], [], "303 -> /teams/42"),
    ("erin opens her invite link", 0, [], [], "303 -> /teams/42 (sets the invite cookie)"),
    ("her browser follows: the page offers a wake", 0, [], [], "503 asleep (offers the wake)"),
    ("erin presses Wake for 1 h", 1, ["env.hold", "env.startup"], [], "303 -> /teams/42"),
    ("the page refreshes: tasks started, not yet healthy", 1, [], [], "503 waking"),
    ("the page refreshes: healthy, the address -> the app", 1, [], [], "200 ready"),
    ("health check: erin used staging until 18:55", 1, [], [], "idle stop: in use (last use 18:55 UTC; idle at 19:25 UTC)"),
    ("health check: idle since 18:55: the team is warned", 1, ["env.idle_warning:warning"], [], "warned: stops at 19:25 UTC: no requests since 18:55 UTC"),
    ("health check: still idle: stops, her hour cut short", 0, ["env.teardown"], [], "idle: no requests since 18:55 UTC: stopping"),
    ("on-demand start with a 2 h hold (carol)", 1, ["env.hold", "env.startup"], [], "held until 22:00 UTC; starting"),
    ("health check: carol's task is healthy", 1, [], [], "idle stop: in use"),
    ("the hold's one-time schedule fires", 0, ["env.teardown"], [], "hold expired; stopping"),
    ("AWS Budgets: actual cost over the budget", 0, ["budget.locked:critical"], [], "locked for"),
    ("next morning: scheduled startup", 0, [], [], "not starting: locked by the budget"),
    ("dave runs the deploy workflow by hand", 0, ["deploy.started:warning"], [], "not starting: locked by the budget"),
    ("daily cost report", 0, ["cost.report"], [], "cost report"),
]

# The day in stack mode (scripts/demo --stack), with where the API name points after each
# step: None while paused, the load balancer's DNS name while the stack stands.
SCENARIO_STACK = [
    ("the evening before: scheduled teardown", 0, ["env.teardown"], [], "stopping: deleting the stack"),
    ("the stack check's one-time schedule fires", 0, [], [], "paused: the stack was deleted in 5m"),
    ("scheduled startup", 1, ["env.startup"], [], "starting: creating the stack (ready about 08:10 UTC)"),
    ("push to develop: apps/express-api (backend only)", 1, ["deploy.planned"], [], "202 pending until staging is up (expected about 08:10 UTC)"),
    ("EventBridge: the stack's CREATE_COMPLETE", 2, ["env.startup", "deploy.planned"], ["backend-only"], "up: the stack was created in 9m; dispatched backend-only"),
    ("the deploy workflow finishes: success", 2, ["deploy.succeeded"], [], "200 deploy succeeded"),
    ("scheduled teardown", 0, ["env.teardown"], [], "stopping: deleting the stack"),
]
STACK_FRONT_DOOR = [False, False, True, True, True, True, False]

# Scale mode: where the staging address's listener forwards after each step (the app, or
# the front door while staging sleeps). The 10:00 push's invocation finds the morning's
# task healthy and points the address back at the app; the 20:05 health check, carol's.
ADDRESS = ["front door"] * 2 + ["app"] * 10 + ["front door"] * 8 + ["app"] * 3 + ["front door"] * 2 + ["app"] + ["front door"] * 5

# The audit trail the day leaves (oldest first): (source, who, events). Two health ticks
# that only counted (the first 503, the first good answer) and the daily report (it
# decides nothing) are not kept.
HISTORY = [
    ("schedule", "teardown", ["phase"]),
    ("schedule", "startup", ["phase"]),
    ("webhook", "alice", []),
    ("webhook", "bob", []),
    ("webhook", "alice", ["deployment"]),
    ("health", "health-check", ["health"]),
    ("health", "health-check", ["health"]),
    ("health", "health-check", ["health"]),
    ("webhook", "dave", []),
    ("webhook", "dave", ["deployment"]),
    ("schedule", "teardown", ["phase", "up_window"]),
    ("front-door", "erin", ["phase"]),
    ("front-door", "front-door", []),
    ("front-door", "front-door", []),
    ("front-door", "front-door", ["phase"]),
    ("health", "health-check", []),
    ("health", "health-check", ["phase", "up_window"]),
    ("operator", "carol", ["phase"]),
    ("health", "health-check", []),
    ("schedule", "hold-expiry", ["phase", "up_window"]),
    ("budget", "AWS Budgets", ["budget_alert", "budget_locked"]),
    ("schedule", "startup", []),
    ("webhook", "dave", []),
]


def main():
    document = json.load(open(sys.argv[1]))
    timeline = document["steps"]
    stack = document.get("mode") == "stack"
    scenario = SCENARIO_STACK if stack else SCENARIO
    problems = []
    if stack:
        for i, (step, standing) in enumerate(zip(timeline, STACK_FRONT_DOOR)):
            door = step.get("front_door") or {}
            lbs = door.get("load_balancers", [])
            if standing and not (door.get("alias") and door["alias"] in lbs):
                problems.append(f"step {i + 1}: the API name should point at the stack's load balancer: {door}")
            if not standing and (door.get("alias") or lbs):
                problems.append(f"step {i + 1}: the stack should be paused (no alias, no load balancer): {door}")
    else:
        for i, (step, where) in enumerate(zip(timeline, ADDRESS)):
            if step.get("address") != where:
                problems.append(f"step {i + 1} ({step['event']}): the staging address leads to {step.get('address')}, expected {where}")
    if len(timeline) != len(scenario):
        problems.append(f"{len(timeline)} steps, expected {len(scenario)}")
    for i, (step, (event, desired, notices, dispatched, says)) in enumerate(zip(timeline, scenario)):
        where = f"step {i + 1} ({step['at']} {step['event']})"
        if step["event"] != event:
            problems.append(f"{where}: expected the step {event!r}")
        if not step["ok"]:
            problems.append(f"{where}: the invocation failed: {step['decision']}")
        if says not in step["decision"]:
            problems.append(f"{where}: the decision {step['decision']!r} does not say {says!r}")
        if step["ecs_desired"] != desired:
            problems.append(f"{where}: ECS desired {step['ecs_desired']}, expected {desired}")
        got = [n["event"] for n in step["notifications"]]
        want = [n.split(":")[0] for n in notices]
        if got != want:
            problems.append(f"{where}: notifications {got}, expected {want}")
        else:
            for n, expected in zip(step["notifications"], notices):
                if ":" in expected and n["severity"] != expected.split(":")[1]:
                    problems.append(f"{where}: {n['event']} was {n['severity']}, expected {expected.split(':')[1]}")
        types = [d["deployment_type"] for d in step["dispatches"]]
        if types != dispatched:
            problems.append(f"{where}: dispatches {types}, expected {dispatched}")
    if not stack:
        problems += check_history(document.get("history", []), document.get("metrics", []))
    for p in problems:
        print(f"demo timeline: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    trail = "" if stack else f", and its {len(document.get('history', []))} decisions kept and measured as expected"
    print(f"demo timeline ({document.get('mode', 'scale')} mode): {len(timeline)} steps as the scenario says{trail}", file=sys.stderr)


def check_history(trail, metrics):
    """The audit trail the functions kept through cargo lambda watch, and the EMF lines they
    printed: one Decisions metric per kept decision, from the same source, in order."""
    problems = []
    got = [(e["source"], e["who"], [ev["event"] for ev in e.get("events") or []]) for e in trail]
    if got != HISTORY:
        problems.append(f"audit trail {got}, expected {HISTORY}")
    if [e["at"] for e in trail] != sorted(e["at"] for e in trail):
        problems.append("audit trail out of order")
    decisions = [m["dimensions"].get("Source") for m in metrics if "Decisions" in m["names"]]
    if decisions != [e["source"] for e in trail]:
        problems.append(f"Decisions metrics by source {decisions}, expected one per kept decision {[e['source'] for e in trail]}")
    names = {n for m in metrics for n in m["names"]}
    for name in ["Deployments", "DeployDuration", "UpMinutes", "HealthTransitions", "BudgetLocks"]:
        if name not in names:
            problems.append(f"no {name} metric was printed")
    return problems


if __name__ == "__main__":
    main()
