"""Checks the timeline `scripts/demo --json FILE` wrote against the day's scenario: for
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
    ("on-demand start with a 2 h hold (carol)", 1, ["env.hold", "env.startup"], [], "held until 22:00 UTC; starting"),
    ("the hold's one-time schedule fires", 0, ["env.teardown"], [], "hold expired; stopping"),
    ("AWS Budgets: actual cost over the budget", 0, ["budget.locked:critical"], [], "locked for"),
    ("next morning: scheduled startup", 0, [], [], "not starting: locked by the budget"),
    ("dave runs the deploy workflow by hand", 0, ["deploy.started:warning"], [], "not starting: locked by the budget"),
    ("daily cost report", 0, ["cost.report"], [], "cost report"),
]


def main():
    timeline = json.load(open(sys.argv[1]))["steps"]
    problems = []
    if len(timeline) != len(SCENARIO):
        problems.append(f"{len(timeline)} steps, expected {len(SCENARIO)}")
    for i, (step, (event, desired, notices, dispatched, says)) in enumerate(zip(timeline, SCENARIO)):
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
    for p in problems:
        print(f"demo timeline: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"demo timeline: {len(timeline)} steps as the scenario says", file=sys.stderr)


if __name__ == "__main__":
    main()
