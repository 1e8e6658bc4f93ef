"""A working day of Staging Control, replayed through the real Lambda Runtime API.

Run by scripts/demo (which starts moto and finds cargo-lambda): builds the four functions
with the `demo-clock` feature (their clock is the instant in a file this script moves
forward), serves a loopback GitHub API and a loopback app, starts `cargo lambda watch`
and replays the day with `cargo lambda invoke --data-file`. After each step it reads
what the world looks like: the ECS service's desired count (DescribeServices), the
notifications published to the team topic (an SQS queue subscribed to it), the workflow
dispatches GitHub received.
"""
import argparse
import datetime as dt
import html
import importlib.machinery
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import cbor2

ROOT = pathlib.Path(__file__).resolve().parents[2]
FUNCTIONS = ["lifecycle", "github-webhook", "budget-alert", "health-check", "front-door"]
# The secret events/github-webhook.*.json are signed with, so they can be posted too.
WEBHOOK_SECRET = "local-webhook-secret"
GITHUB_TOKEN = "ghp_demo0000000000000000000000000000000000"
SETTINGS_PARAMETER = "/staging-control/settings"
# The secret invite links are signed with (in Secrets Manager, as the stack's InviteSecret).
INVITE_SECRET = "local-invite-secret"
STAGING_URL = "https://api.staging.example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
# The app's task as the load balancer's target (moto runs no tasks nor health checks).
TASK_IP = "10.0.1.7"
REPOSITORY = "acme/app"
# Stack mode (--stack): the pause stack of events/app-stack.yaml, its service role (moto
# does not check it exists) and the API name its alias record owns.
PAUSE_STACK = "staging-app"
PAUSE_STACK_ROLE = "arn:aws:iam::123456789012:role/staging-app-cloudformation"
API_NAME = "api.staging.example.com"
signer = importlib.machinery.SourceFileLoader("signer", str(ROOT / "scripts" / "sign-webhook-events")).load_module()


def log(message):
    print(f"demo: {message}", file=sys.stderr, flush=True)


def iso(t):
    """RFC 3339 UTC with nanoseconds: the functions' clocks carry sub-second instants."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}417Z"


def whole(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Loopback peers: GitHub's REST API (compare, workflow dispatch) and the app's /health.


class GitHub:
    def __init__(self):
        self.compares = {}  # "base...head" -> [paths]
        self.dispatches = []
        self.lock = threading.Lock()


class App:
    healthy = True


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def github_handler(github):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def authorised(self):
            if self.headers.get("authorization") != f"Bearer {GITHUB_TOKEN}":
                self.answer(401, {"message": "Bad credentials"})
                return False
            return True

        def do_GET(self):
            prefix = f"/repos/{REPOSITORY}/compare/"
            if not self.authorised():
                return
            if self.path.startswith(prefix):
                key = self.path[len(prefix):].split("?")[0]
                files = github.compares.get(key)
                if files is None:
                    return self.answer(404, {"message": "Not Found"})
                return self.answer(200, {"status": "ahead", "total_commits": 1, "files": [{"filename": f, "status": "modified"} for f in files]})
            self.answer(404, {"message": "Not Found"})

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if not self.authorised():
                return
            prefix = f"/repos/{REPOSITORY}/actions/workflows/"
            if self.path.startswith(prefix) and self.path.endswith("/dispatches"):
                with github.lock:
                    github.dispatches.append({"workflow": self.path[len(prefix):-len("/dispatches")], **json.loads(body)})
                return self.answer(204)
            self.answer(404, {"message": "Not Found"})

    return Handler


def app_handler(app):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            status, body = (200, b"ok") if app.healthy else (503, b"database connection refused")
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class CloudWatch:
    """The load balancer's use figures (RequestCount, ActiveConnectionCount per minute) as
    the demo scripts them, for the idle stop. Served in the protocol the Rust SDK speaks to
    CloudWatch, Smithy RPC v2 CBOR, which moto 5.2.5 does not serve (it answers 404)."""

    def __init__(self):
        self.points = []  # (metric, minute, value)
        self.queries = 0
        self.lock = threading.Lock()

    def use(self, start, end, requests, connections=0):
        """`requests` a minute (and `connections` open) from `start` to `end`."""
        t, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
        with self.lock:
            while t < end:
                self.points += [("RequestCount", t, float(requests)), ("ActiveConnectionCount", t, float(connections))]
                t += dt.timedelta(minutes=1)


def cloudwatch_handler(cloudwatch):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, document):
            data = cbor2.dumps(document)
            self.send_response(status)
            self.send_header("smithy-protocol", "rpc-v2-cbor")
            self.send_header("content-type", "application/cbor")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path != "/service/GraniteServiceVersion20100801/operation/GetMetricData":
                return self.answer(404, {"__type": "UnknownOperationException"})
            asked = cbor2.loads(body)  # timestamps (tag 1) arrive as datetimes
            start, end = asked["StartTime"], asked["EndTime"]
            results = []
            with cloudwatch.lock:
                cloudwatch.queries += 1
                for q in asked["MetricDataQueries"]:
                    metric = q["MetricStat"]["Metric"]["MetricName"]
                    mine = sorted((t, v) for m, t, v in cloudwatch.points if m == metric and start <= t < end)
                    results.append({
                        "Id": q["Id"], "Label": metric, "StatusCode": "Complete",
                        "Timestamps": [cbor2.CBORTag(1, t.timestamp()) for t, _ in mine],
                        "Values": [v for _, v in mine],
                    })
            self.answer(200, {"MetricDataResults": results, "Messages": []})

    return Handler


# ---------------------------------------------------------------------------------------
# Events, as the real senders shape them.


def push(before, after, files, at, message, who="alice"):
    commit = {
        "id": after, "tree_id": "0" * 40, "distinct": True, "message": message,
        "timestamp": whole(at), "url": f"https://github.com/{REPOSITORY}/commit/{after}",
        "author": {"name": who, "email": f"{who}@example.com", "username": who},
        "committer": {"name": who, "email": f"{who}@example.com", "username": who},
        "added": [], "removed": [], "modified": files,
    }
    return "push", {
        "ref": "refs/heads/develop", "before": before, "after": after,
        "repository": {"name": "app", "full_name": REPOSITORY, "default_branch": "main"},
        "pusher": {"name": who, "email": f"{who}@example.com"}, "sender": {"login": who},
        "created": False, "deleted": False, "forced": False,
        "compare": f"https://github.com/{REPOSITORY}/compare/{before[:12]}...{after[:12]}",
        "commits": [commit], "head_commit": commit,
    }


def workflow_run(action, sha, event, created, started=None, finished=None, conclusion=None, run_id=30433642, who="alice"):
    run = {
        "id": run_id, "name": "Deploy staging", "head_branch": "develop", "head_sha": sha,
        "path": ".github/workflows/deploy-staging.yml", "event": event,
        "status": "completed" if conclusion else "queued", "conclusion": conclusion,
        "html_url": f"https://github.com/{REPOSITORY}/actions/runs/{run_id}",
        "created_at": whole(created), "updated_at": whole(finished or created),
        "run_started_at": whole(started or created),
        "actor": {"login": who}, "triggering_actor": {"login": who},
    }
    return "workflow_run", {
        "action": action, "workflow_run": run,
        "workflow": {"name": "Deploy staging", "path": ".github/workflows/deploy-staging.yml"},
        "repository": {"name": "app", "full_name": REPOSITORY}, "sender": {"login": who},
    }


def delivery(kind_and_payload, at):
    kind, payload = kind_and_payload
    body = json.dumps(payload, separators=(",", ":"))
    return signer.function_url_request(kind, body, WEBHOOK_SECRET.encode(), str(uuid.uuid4()), time_epoch_ms=int(at.timestamp() * 1000))


def browser(method, path_and_query, at, agent=FIREFOX, cookie=None, form=None):
    """A request to the staging address that reaches the front door (the listener's
    target group, or its Function URL), as a Function URL event."""
    path, _, query = path_and_query.partition("?")
    headers = {"user-agent": agent, "accept": "text/html,application/xhtml+xml", "host": STAGING_URL.split("//")[1]}
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": headers,
        "requestContext": {
            "accountId": "anonymous", "apiId": "stagingfrontdoor", "domainName": "stagingfrontdoor.lambda-url.us-east-1.on.aws",
            "domainPrefix": "stagingfrontdoor", "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": at.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(at.timestamp() * 1000),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": agent},
        },
        "body": form or "", "isBase64Encoded": False,
    }
    if cookie:
        event["cookies"] = [cookie]
    return event


def budget_notification(at, actual, limit, kind="ACTUAL"):
    message = (
        f"AWS Budget Notification {at.strftime('%B')} {at.day}, {at.year}\nAWS Account 123456789012\n\nDear AWS Customer,\n\n"
        f"You requested that we alert you when the {kind} Cost associated with your staging-monthly budget is greater than "
        f"${limit:.2f} for the current month. The {kind} Cost associated with this budget is ${actual:.2f}. You can find "
        "additional details below and by accessing the AWS Budgets dashboard [1].\n\n"
        f"Budget Name: staging-monthly\nBudget Type: Cost\nBudgeted Amount: ${limit:.2f}\nAlert Type: {kind}\n"
        f"Alert Threshold: > ${limit:.2f}\n{kind} Amount: ${actual:.2f}\n\n[1] https://console.aws.amazon.com/billing/home#/budgets\n"
    )
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:staging-control-budget:5f2ab4e1",
        "Sns": {
            "Type": "Notification", "MessageId": str(uuid.uuid4()),
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:staging-control-budget",
            "Subject": "AWS Budgets: staging-monthly has exceeded your alert threshold",
            "Message": message, "Timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            "SignatureVersion": "1", "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe", "MessageAttributes": {},
        },
    }]}


# ---------------------------------------------------------------------------------------


class World:
    """What the demo reads after each step: through the same APIs a person would use."""

    def __init__(self, env):
        kw = dict(endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"], aws_access_key_id="testing", aws_secret_access_key="testing")
        self.env = env
        self.ecs = boto3.client("ecs", **kw)
        self.sqs = boto3.client("sqs", **kw)
        self.scheduler = boto3.client("scheduler", **kw)
        self.secrets = boto3.client("secretsmanager", **kw)
        self.ssm = boto3.client("ssm", **kw)
        self.cfn = boto3.client("cloudformation", **kw)
        self.elb = boto3.client("elbv2", **kw)
        self.route53 = boto3.client("route53", **kw)
        self.dynamodb = boto3.client("dynamodb", **kw)
        self.zone = None

    def history(self, months):
        """The audit trail the functions kept (the table's `history` index), oldest first."""
        environment = self.env.get("STAGING_ENVIRONMENT", "staging")
        out = []
        for month in months:
            kw = dict(
                TableName=self.env["STAGING_TABLE"], IndexName="history",
                KeyConditionExpression="#log = :log", ExpressionAttributeNames={"#log": "log"},
                ExpressionAttributeValues={":log": {"S": f"audit#{environment}#{month}"}},
            )
            while True:
                page = self.dynamodb.query(**kw)
                out += [json.loads(item["record"]["S"]) for item in page["Items"]]
                if "LastEvaluatedKey" not in page:
                    break
                kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out  # in the index's order: months ascending, each by its sort key

    def desired(self):
        s = self.ecs.describe_services(cluster=self.env["STAGING_CLUSTER"], services=[self.env["STAGING_SERVICE"]])["services"][0]
        return s["desiredCount"]

    def notifications(self):
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.env["STAGING_TEAM_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                return out
            for m in messages:
                body = json.loads(m["Body"])
                chatbot = json.loads(body["Message"]) if body.get("Type") == "Notification" else body
                meta = chatbot.get("metadata", {})
                out.append({
                    "event": meta.get("eventType"),
                    "severity": meta.get("additionalContext", {}).get("severity"),
                    "subject": meta.get("summary") or chatbot.get("content", {}).get("title"),
                })
                self.sqs.delete_message(QueueUrl=self.env["STAGING_TEAM_QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])

    def address(self):
        """Where the staging address's listener forwards (scale mode, switched): "app",
        "front door", or None when the controller does not switch it."""
        arn = self.env.get("STAGING_LISTENER_ARN")
        if not arn:
            return None
        action = self.elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
        return {self.env["STAGING_APP_TARGET_GROUP_ARN"]: "app", self.env["STAGING_FRONT_DOOR_TARGET_GROUP_ARN"]: "front door"}.get(
            action.get("TargetGroupArn"), action.get("TargetGroupArn"))

    def settle(self):
        """What the load balancer sees between two steps (moto runs no tasks nor health
        checks): while the service runs, its task is a healthy target; at zero, none."""
        group = self.env.get("STAGING_APP_TARGET_GROUP_ARN")
        if not group:
            return
        target = [{"Id": TASK_IP, "Port": 3000}]
        registered = self.elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        if self.desired() > 0:
            self.elb.register_targets(TargetGroupArn=group, Targets=target)
        elif registered:
            self.elb.deregister_targets(TargetGroupArn=group, Targets=target)

    def schedule_input(self, name):
        got = self.scheduler.get_schedule(GroupName=self.env["STAGING_SCHEDULE_GROUP"], Name=name)
        return json.loads(got["Target"]["Input"]), got["ScheduleExpression"]

    def front_door(self):
        """Where the API name points, and the load balancers there are (stack mode)."""
        # The pause stack's: the bootstrap's own (scale mode's address, "staging-alb") aside.
        lbs = [lb["DNSName"] for lb in self.elb.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] != "staging-alb"]
        records = self.route53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]
        alias = next(((r.get("AliasTarget") or {}).get("DNSName") for r in records if r["Name"].rstrip(".") == API_NAME and r["Type"] == "A"), None)
        return {"load_balancers": lbs, "alias": alias}

    def create_app_stack(self):
        """The app stack as a user has it before stack mode: created once, by hand, with its
        service role, running 2 tasks."""
        self.zone = self.route53.create_hosted_zone(Name="staging.example.com", CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"].split("/")[-1]
        self.cfn.create_stack(
            StackName=PAUSE_STACK, TemplateBody=(ROOT / "events" / "app-stack.yaml").read_text(), RoleARN=PAUSE_STACK_ROLE,
            Tags=[{"Key": "Environment", "Value": "staging"}],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in
                        {"HostedZoneId": self.zone, "ApiName": API_NAME, "RouteTables": "false"}.items()],
        )
        self.ecs.update_service(cluster=PAUSE_STACK, service="api", desiredCount=2)
        return self.cfn.describe_stacks(StackName=PAUSE_STACK)["Stacks"][0]["StackId"]

    def stack_id(self):
        return self.cfn.describe_stacks(StackName=PAUSE_STACK)["Stacks"][0]["StackId"]

    def hold_schedule_input(self):
        group = self.env["STAGING_SCHEDULE_GROUP"]
        for s in self.scheduler.list_schedules(GroupName=group)["Schedules"]:
            got = self.scheduler.get_schedule(GroupName=group, Name=s["Name"])
            if "hold" in s["Name"]:
                return json.loads(got["Target"]["Input"]), got["ScheduleExpression"]
        return None, None


def summary_of(function, answer):
    """The decision, in a line, from what the function answered."""
    if function == "front-door":
        body = answer.get("body") or ""
        state = re.search(r'data-state="([^"]+)"', body)
        line = f"{answer.get('statusCode')} {state.group(1) if state else ''}".rstrip()
        refusal = re.search(r'<div class="refusal"[^>]*>.*?<p>(.*?)</p>', body, re.S)
        if refusal:
            line += f": {html.unescape(refusal.group(1))}"
        if (answer.get("headers") or {}).get("location"):
            line += f" -> {answer['headers']['location']}"
        if answer.get("cookies"):
            line += " (sets the invite cookie)"
        if 'action="/_staging/wake"' in body:
            line += " (offers the wake)"
        return line
    if function == "health-check" and isinstance(answer.get("decision"), str) and isinstance(answer.get("idle"), str):
        return f"{answer['decision']}; {answer['idle']}"
    if function == "github-webhook":
        try:
            body = json.loads(answer.get("body") or "{}")
        except json.JSONDecodeError:
            body = {"raw": answer.get("body")}
        decision = body.get("decision") or body.get("summary") or body.get("reason") or body.get("status") or body
        return f"{answer.get('statusCode')} {decision if isinstance(decision, str) else json.dumps(decision)}"
    if isinstance(answer.get("records"), list):
        return "; ".join(
            (r.get("answer") or {}).get("summary") or f"error: {r.get('error')}" for r in answer["records"]
        )
    for key in ("summary", "decision"):
        if isinstance(answer.get(key), str):
            return answer[key]
        if isinstance(answer.get(key), dict) and isinstance(answer[key].get("summary"), str):
            return answer[key]["summary"]
    return json.dumps(answer)[:160]


def port_in_use(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop_on_signals():
    """SIGTERM and SIGHUP (a CI timeout, a closed terminal) stop the demo like Ctrl-C, so
    the `finally` below still stops cargo lambda watch (it runs in its own session)."""
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    # Started in the background by scripts/demo, which a shell starts with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cargo-lambda", required=True)
    ap.add_argument("--exit", action="store_true", help="stop after the day (tests, CI)")
    ap.add_argument("--json", metavar="FILE", help="write the timeline as JSON")
    ap.add_argument("--date", default="2026-11-25", help="the working day replayed (YYYY-MM-DD)")
    ap.add_argument("--stack", action="store_true",
                    help="stack mode: the app stack of events/app-stack.yaml is deleted at teardown and created again at startup")
    ap.add_argument("--port", type=int, default=int(os.environ.get("DEMO_WATCH_PORT", "9010")), help="cargo lambda watch's invoke port")
    args = ap.parse_args()

    try:
        day = dt.datetime.strptime(args.date, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        sys.exit(f"demo: --date {args.date!r} is not YYYY-MM-DD")
    if day.weekday() >= 4 or (day + dt.timedelta(days=1)).month != day.month:
        sys.exit("demo: --date must be a Monday to Thursday whose next day is in the same month "
                 "(the next morning is replayed too, under the same month's budget)")
    if port_in_use(args.port):
        sys.exit(f"demo: something already listens on 127.0.0.1:{args.port} (another scripts/demo?); "
                 "stop it or set DEMO_WATCH_PORT")
    if args.json:
        json_out = pathlib.Path(args.json)
        if not json_out.parent.is_dir():
            sys.exit(f"demo: --json {args.json}: no such directory {json_out.parent}")
    stop_on_signals()
    env = dict(os.environ)
    world = World(env)
    work = ROOT / ".local" / "demo"
    work.mkdir(parents=True, exist_ok=True)
    clock = work / "clock"

    github, app, cloudwatch = GitHub(), App(), CloudWatch()
    github_server, app_server = serve(github_handler(github)), serve(app_handler(app))
    world.cloudwatch = cloudwatch
    webhook_arn = world.secrets.create_secret(Name=f"demo-webhook-{uuid.uuid4().hex[:8]}", SecretString=WEBHOOK_SECRET)["ARN"]
    token_arn = world.secrets.create_secret(Name=f"demo-token-{uuid.uuid4().hex[:8]}", SecretString=GITHUB_TOKEN)["ARN"]
    env.update({
        "STAGING_DEMO_CLOCK": str(clock),
        "GITHUB_API_URL": f"http://127.0.0.1:{github_server.server_address[1]}",
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_BRANCH": "develop",
        # As deployed: both secrets come from Secrets Manager (moto's).
        "GITHUB_WEBHOOK_SECRET_ARN": webhook_arn,
        "GITHUB_TOKEN_ARN": token_arn,
        # The probes and the health grace come from the settings document in Parameter
        # Store, as a team changes them without a redeploy: the health checks of the day
        # only see the app's 503 if the function read it.
        "STAGING_SETTINGS_PARAMETER": SETTINGS_PARAMETER,
        "RUST_LOG": env.get("RUST_LOG", "warn"),
    })
    world.ssm.put_parameter(Name=SETTINGS_PARAMETER, Type="String", Value=(
        "# stagingctl settings set FILE\n"
        f"probes: [app=http://127.0.0.1:{app_server.server_address[1]}/health;latency=2s]\n"
        "health_grace: 10m\n"
    ))
    env.pop("GITHUB_WEBHOOK_SECRET", None)
    env.pop("GITHUB_TOKEN", None)
    invite_arn = world.secrets.create_secret(Name=f"demo-invite-{uuid.uuid4().hex[:8]}", SecretString=INVITE_SECRET)["ARN"]
    env.update({
        # The front door: the staging address, the invite secret (Secrets Manager, as the
        # stack's InviteSecret).
        "STAGING_URL": STAGING_URL,
        "STAGING_INVITE_SECRET_ARN": invite_arn,
    })
    if not args.stack:
        cloudwatch_server = serve(cloudwatch_handler(cloudwatch))
        env.update({
            # Scale mode with the address switched: the bootstrap's load balancer, whose
            # listener leads to the app awake and to the front door asleep.
            "STAGING_LISTENER_ARN": env["LOCAL_LISTENER_ARN"],
            "STAGING_APP_TARGET_GROUP_ARN": env["LOCAL_APP_TARGET_GROUP_ARN"],
            "STAGING_FRONT_DOOR_TARGET_GROUP_ARN": env["LOCAL_FRONT_DOOR_TARGET_GROUP_ARN"],
            # The idle stop reads its figures; CloudWatch alone is on loopback (see CloudWatch).
            "STAGING_LOAD_BALANCER": env["LOCAL_LOAD_BALANCER"],
            "AWS_ENDPOINT_URL_CLOUDWATCH": f"http://127.0.0.1:{cloudwatch_server.server_address[1]}",
        })
    if args.stack:
        world.create_app_stack()
        env.update({
            "STAGING_TEARDOWN": "stack",
            "STAGING_PAUSE_STACK": PAUSE_STACK,
            "STAGING_PAUSE_STACK_ROLE_ARN": PAUSE_STACK_ROLE,
            # The service lives in the pause stack.
            "STAGING_CLUSTER": PAUSE_STACK,
            "STAGING_SERVICE": "api",
        })

    features = "staging-core/demo-clock"
    cargo_lambda = args.cargo_lambda
    log(f"building the {len(FUNCTIONS)} functions and stagingctl (debug, feature demo-clock), each on its own as watch builds it")
    for package in FUNCTIONS + ["stagingctl"]:
        subprocess.run(["cargo", "build", "--locked", "-p", package, "--features", features], cwd=ROOT, check=True)

    def stagingctl(*arguments):
        """stagingctl as the operator runs it, by the demo's clock."""
        got = subprocess.run(["cargo", "run", "--locked", "-q", "-p", "stagingctl", "--features", features, "--", *arguments],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if got.returncode != 0:
            raise SystemExit(f"demo: stagingctl {' '.join(arguments)} failed: {got.stderr.strip()[-400:]}")
        return got.stdout
    world.stagingctl = stagingctl

    clock.write_text(iso(day))
    watch_log = open(work / "watch.log", "w")
    log(f"starting cargo lambda watch on 127.0.0.1:{args.port} (log: {work / 'watch.log'})")
    watch = subprocess.Popen(
        [cargo_lambda, "lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", str(args.port), "--features", features],
        cwd=ROOT, env=env, stdout=watch_log, stderr=subprocess.STDOUT, start_new_session=True,
    )

    def stop_watch():
        if watch.poll() is None:
            os.killpg(watch.pid, signal.SIGTERM)
            try:
                watch.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(watch.pid, signal.SIGKILL)

    try:
        deadline = time.monotonic() + 60
        while not port_in_use(args.port):
            if watch.poll() is not None:
                sys.exit(f"demo: cargo lambda watch exited; see {work / 'watch.log'}")
            if time.monotonic() > deadline:
                sys.exit(f"demo: cargo lambda watch did not listen on {args.port} within 60 s; see {work / 'watch.log'}")
            time.sleep(0.1)
        timeline = (replay_stack if args.stack else replay)(args, day, clock, world, github, app, cargo_lambda, work)
        print_timeline(timeline)
        if not args.stack:
            # The month so far, run on use: the trail's real hours (erin's wake, carol's
            # hold) against the £5 target.
            print("\n$ stagingctl cost --compare\n" + world.stagingctl("cost", "--compare"), flush=True)
        watch_log.flush()
        trail = [
            {k: e.get(k) for k in ("at", "source", "who", "summary", "events")}
            for e in world.history(sorted({day.strftime("%Y-%m"), (day - dt.timedelta(days=1)).strftime("%Y-%m")}))
        ]
        metrics = emf_lines(work / "watch.log")
        print(
            f"\nthe audit trail kept {len(trail)} decisions (stagingctl history); the functions printed "
            f"{sum(1 for m in metrics if 'Decisions' in m['names'])} Decisions metrics "
            f"and {sum(1 for m in metrics if 'Decisions' not in m['names'])} others (CloudWatch EMF)",
            flush=True,
        )
        if args.json:
            mode = "stack" if args.stack else "scale"
            document = {"date": args.date, "mode": mode, "steps": timeline, "history": trail, "metrics": metrics}
            json_out.write_text(json.dumps(document, indent=1) + "\n")
            log(f"wrote {args.json}")
        failed = [s for s in timeline if not s["ok"]]
        if args.exit:
            if failed:
                sys.exit(f"demo: {len(failed)} step(s) failed")
            return
        print(
            f"\ncargo lambda watch is up on 127.0.0.1:{args.port}, against local AWS at {env['AWS_ENDPOINT_URL']}.\n"
            f"Post your own events, e.g.:\n"
            f"  {cargo_lambda} lambda invoke lifecycle -A 127.0.0.1 -P {args.port} --data-file events/lifecycle.teardown.json\n"
            f"The functions' clock is the instant in {clock} (edit it to move time). Ctrl-C stops everything.",
            flush=True,
        )
        watch.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_watch()


def emf_lines(path):
    """The CloudWatch embedded-metric-format lines the functions printed under cargo lambda
    watch: each line's metric names and dimension values, in order."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        start = line.find("{")
        if '"_aws"' not in line or start < 0:
            continue
        try:
            doc = json.loads(line[start:])
        except ValueError:
            continue
        if not isinstance(doc.get("_aws"), dict):
            continue
        directive = doc["_aws"]["CloudWatchMetrics"][0]
        names = [m["Name"] for m in directive["Metrics"]]
        dims = sorted({d for group in directive["Dimensions"] for d in group})
        out.append({"names": names, "dimensions": {d: doc.get(d) for d in dims}, "values": {n: doc.get(n) for n in names}})
    return out


def at(base, hhmm, ms=250):
    h, m = map(int, hhmm.split(":"))
    return base.replace(hour=h, minute=m, second=0, microsecond=ms * 1000)


def scheduled(command, when):
    return {"command": command, "scheduled_time": whole(when)}


def invoker(args, clock, world, github, cargo_lambda, work, steps):
    """invoke(when, what, function, event): one step through cargo lambda watch, with what
    the world looks like after it appended to `steps`."""
    def invoke(when, what, function, event, settle=True):
        clock.write_text(iso(when))
        data = work / f"event-{len(steps):02d}.json"
        data.write_text(json.dumps(event))
        got = subprocess.run(
            [cargo_lambda, "lambda", "invoke", function, "-A", "127.0.0.1", "-P", str(args.port), "--data-file", str(data), "--output-format", "json"],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )
        if got.returncode != 0:
            answer = {"error": (got.stdout + got.stderr).strip()[-400:]}
        else:
            try:
                answer = json.loads(got.stdout)
            except json.JSONDecodeError:
                answer = {"raw": got.stdout.strip()}
        with github.lock:
            dispatched, github.dispatches[:] = list(github.dispatches), []
        step = {
            "at": whole(when),
            "event": what,
            "function": function,
            # A function error fails the invoke; the webhook answers its errors as statuses.
            # The front door's refusals (401, 403, 503 asleep) are its answers: checked by check.py.
            "ok": got.returncode == 0 and (function != "github-webhook" or 200 <= answer.get("statusCode", 0) < 300),
            "decision": summary_of(function, answer) if got.returncode == 0 else answer["error"],
            "ecs_desired": world.desired(),
            "notifications": world.notifications(),
            "dispatches": [{"deployment_type": d.get("inputs", {}).get("deployment-type"), "ref": d.get("ref")} for d in dispatched],
            "answer": answer,
        }
        if world.zone:
            step["front_door"] = world.front_door()
        address = world.address()
        if address:
            step["address"] = address
        if settle:
            world.settle()
        steps.append(step)
        mark = "" if step["ok"] else "  [FAILED]"
        log(f"{step['at']} {what}: {step['decision']}{mark}")
        return step
    return invoke


def replay(args, day, clock, world, github, app, cargo_lambda, work):
    steps = []
    yesterday = day - dt.timedelta(days=1)
    tomorrow = day + dt.timedelta(days=1)
    invoke = invoker(args, clock, world, github, cargo_lambda, work, steps)

    base_sha, backend_sha, docs_sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "9b2e4c71d0a35f8e6c1b7a2d4e9f03c5a8b6d1e2"
    github.compares[f"{base_sha}...{backend_sha}"] = ["apps/express-api/src/routes/teams.ts", "apps/express-api/src/app.ts"]
    github.compares[f"{backend_sha}...{docs_sha}"] = ["docs/runbook.md", "README.md"]

    invoke(at(yesterday, "18:00"), "the evening before: scheduled teardown", "lifecycle", scheduled("teardown", at(yesterday, "18:00", 0)))
    invoke(at(day, "08:00"), "scheduled startup", "lifecycle", scheduled("startup", at(day, "08:00", 0)))
    t = at(day, "10:00")
    invoke(t, "push to develop: apps/express-api (backend only)", "github-webhook",
           delivery(push(base_sha, backend_sha, github.compares[f"{base_sha}...{backend_sha}"], t, "Add the teams endpoint"), t))
    t = at(day, "10:03")
    invoke(t, "push to develop: docs only", "github-webhook",
           delivery(push(backend_sha, docs_sha, github.compares[f"{backend_sha}...{docs_sha}"], t, "Runbook: restarts", who="bob"), t))
    t = at(day, "10:07")
    invoke(t, "the deploy workflow finishes: success", "github-webhook",
           delivery(workflow_run("completed", docs_sha, "workflow_dispatch", at(day, "10:00", 900) + dt.timedelta(seconds=2),
                                 at(day, "10:00") + dt.timedelta(seconds=6), at(day, "10:06"), "success"), t))
    for hhmm, healthy, what in [
        ("11:00", True, "health check: the app answers"),
        ("11:05", False, "health check: the app answers 503"),
        ("11:10", False, "health check: still 503"),
        ("11:15", True, "health check: the app is back"),
        ("11:20", True, "health check: still answering"),
    ]:
        app.healthy = healthy
        invoke(at(day, hhmm), what, "health-check", scheduled("health", at(day, hhmm, 0)))
    t = at(day, "12:30")
    invoke(t, "dave runs the deploy workflow by hand (Run workflow)", "github-webhook",
           delivery(workflow_run("requested", docs_sha, "workflow_dispatch", at(day, "12:30", 0), run_id=30433700, who="dave"), t))
    t = at(day, "12:36")
    invoke(t, "dave's run finishes: success", "github-webhook",
           delivery(workflow_run("completed", docs_sha, "workflow_dispatch", at(day, "12:30", 0), at(day, "12:30") + dt.timedelta(seconds=4),
                                 at(day, "12:35") + dt.timedelta(seconds=30), "success", run_id=30433700, who="dave"), t))
    invoke(at(day, "18:00"), "scheduled teardown", "lifecycle", scheduled("teardown", at(day, "18:00", 0)))
    evening(day, clock, world, invoke)
    invoke(at(day, "20:00"), "on-demand start with a 2 h hold (carol)", "lifecycle",
           {"command": "up", "hold": "2h", "reason": "evening demo for a client", "who": "carol"})
    # carol's client uses staging for the two hours (requests at the load balancer).
    world.cloudwatch.use(at(day, "20:02"), at(day, "21:58"), requests=20, connections=1)
    invoke(at(day, "20:05"), "health check: carol's task is healthy", "health-check", scheduled("health", at(day, "20:05", 0)))
    hold_input, expression = world.hold_schedule_input()
    if hold_input is None:
        raise SystemExit("demo: the on-demand start left no hold schedule in EventBridge Scheduler")
    log(f"the hold's schedule in EventBridge Scheduler: {expression}, input {json.dumps(hold_input)}")
    invoke(at(day, "22:00", 40), "the hold's one-time schedule fires", "lifecycle", hold_input)
    invoke(at(day, "22:30"), "AWS Budgets: actual cost over the budget", "budget-alert", budget_notification(at(day, "22:30"), 6.42, 6.00))
    invoke(at(tomorrow, "08:00"), "next morning: scheduled startup", "lifecycle", scheduled("startup", at(tomorrow, "08:00", 0)))
    t = at(tomorrow, "08:30")
    invoke(t, "dave runs the deploy workflow by hand", "github-webhook",
           delivery(workflow_run("requested", docs_sha, "workflow_dispatch", at(tomorrow, "08:30", 0), run_id=30433900, who="dave"), t))
    invoke(at(tomorrow, "09:00"), "daily cost report", "budget-alert", {"command": "daily_report"})
    return steps


def evening(day, clock, world, invoke):
    """A tester and the front door: asleep, the staging address shows a page and nothing
    wakes it without an invite (nor a link preview with one); erin's invite wakes it, the
    page shows the steps and sends her on when the app answers; nobody uses it after that,
    and the idle stop ends her hour early, warned first."""
    path, next_form = "/teams/42", "next=%2Fteams%2F42"
    t = at(day, "18:40")
    invoke(t, "erin opens staging: asleep, no invite", "front-door", browser("GET", path, t))
    t = at(day, "18:41")
    invoke(t, "erin presses Wake without an invite", "front-door", browser("POST", "/_staging/wake", t, form=next_form))
    clock.write_text(iso(at(day, "18:41", 700)))
    link = json.loads(world.stagingctl("invite", "erin", "--for", "7d", "--json"))["link"]
    log(f"stagingctl invite erin --for 7d: {link[:60]}...")
    invite = link[len(STAGING_URL):] + "&" + next_form
    t = at(day, "18:42")
    invoke(t, "Slack unfurls erin's invite link (a link preview)", "front-door", browser("GET", invite, t, agent=SLACKBOT))
    t = at(day, "18:43")
    opened = invoke(t, "erin opens her invite link", "front-door", browser("GET", invite, t))
    cookie = ((opened["answer"].get("cookies") or [""])[0]).split(";")[0]
    t = at(day, "18:43", 900)
    invoke(t, "her browser follows: the page offers a wake", "front-door", browser("GET", path, t, cookie=cookie))
    t = at(day, "18:44")
    # Settled only after the next look: the task needs a moment to pass the health checks.
    invoke(t, "erin presses Wake for 1 h", "front-door", browser("POST", "/_staging/wake", t, cookie=cookie, form=next_form),
           settle=False)
    t = at(day, "18:44", 500) + dt.timedelta(seconds=30)
    invoke(t, "the page refreshes: tasks started, not yet healthy", "front-door", browser("GET", path, t, cookie=cookie))
    t = at(day, "18:45", 700) + dt.timedelta(seconds=20)
    invoke(t, "the page refreshes: healthy, the address -> the app", "front-door", browser("GET", path, t, cookie=cookie))
    # erin tests until 18:55 (requests, and a WebSocket open); then only the health check's
    # own probe reaches the load balancer, once a tick.
    world.cloudwatch.use(at(day, "18:46"), at(day, "18:55"), requests=35, connections=2)
    for minute in range(0, 60, 5):
        world.cloudwatch.use(at(day, "19:00") + dt.timedelta(minutes=minute), at(day, "19:01") + dt.timedelta(minutes=minute), requests=1, connections=1)
    for hhmm, what in [
        ("19:00", "health check: erin used staging until 18:55"),
        ("19:15", "health check: idle since 18:55: the team is warned"),
        ("19:25", "health check: still idle: stops, her hour cut short"),
    ]:
        invoke(at(day, hhmm), what, "health-check", scheduled("health", at(day, hhmm, 0)))


def stack_event(stack_id, status, when):
    """EventBridge's "CloudFormation Stack Status Change" (moto emits none)."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "CloudFormation Stack Status Change",
        "source": "aws.cloudformation", "account": "123456789012", "time": whole(when), "region": "us-east-1",
        "resources": [stack_id],
        "detail": {"stack-id": stack_id, "status-details": {"status": status, "status-reason": ""}},
    }


def replay_stack(args, day, clock, world, github, app, cargo_lambda, work):
    """A day in stack mode: the evening teardown deletes the pause stack (load balancer,
    NAT Gateway, service, alias), the morning startup creates it again, a push waits for it,
    and its completion makes staging up at its earlier size with the deploy dispatched."""
    steps = []
    yesterday = day - dt.timedelta(days=1)
    invoke = invoker(args, clock, world, github, cargo_lambda, work, steps)
    base_sha, backend_sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
    github.compares[f"{base_sha}...{backend_sha}"] = ["apps/express-api/src/routes/teams.ts", "apps/express-api/src/app.ts"]

    invoke(at(yesterday, "18:00"), "the evening before: scheduled teardown", "lifecycle", scheduled("teardown", at(yesterday, "18:00", 0)))
    check, expression = world.schedule_input("staging-stack-check")
    log(f"the stack check's schedule in EventBridge Scheduler: {expression}, input {json.dumps(check)}")
    invoke(at(yesterday, "18:05", 40), "the stack check's one-time schedule fires", "lifecycle", check)
    invoke(at(day, "08:00"), "scheduled startup", "lifecycle", scheduled("startup", at(day, "08:00", 0)))
    t = at(day, "08:02")
    invoke(t, "push to develop: apps/express-api (backend only)", "github-webhook",
           delivery(push(base_sha, backend_sha, github.compares[f"{base_sha}...{backend_sha}"], t, "Add the teams endpoint"), t))
    t = at(day, "08:09", 500) + dt.timedelta(seconds=30)
    invoke(t, "EventBridge: the stack's CREATE_COMPLETE", "lifecycle", stack_event(world.stack_id(), "CREATE_COMPLETE", t))
    t = at(day, "08:15")
    invoke(t, "the deploy workflow finishes: success", "github-webhook",
           delivery(workflow_run("completed", backend_sha, "workflow_dispatch", at(day, "08:09", 0) + dt.timedelta(seconds=32),
                                 at(day, "08:09", 0) + dt.timedelta(seconds=36), at(day, "08:14"), "success"), t))
    invoke(at(day, "18:00"), "scheduled teardown", "lifecycle", scheduled("teardown", at(day, "18:00", 0)))
    return steps


def print_timeline(steps):
    print()
    print(f"{'time (UTC)':<17} {'event':<52} {'ECS':>3}  decision / notifications")
    for i, s in enumerate(steps):
        when = s["at"][:16].replace("T", " ")
        print(f"{when:<17} {s['event'][:52]:<52} {s['ecs_desired']:>3}  {s['decision'][:100]}")
        for d in s["dispatches"]:
            print(f"{'':<75}  -> GitHub: workflow_dispatch {d['deployment_type']} on {d['ref']}")
        for n in s["notifications"]:
            print(f"{'':<75}  -> {n['event']} ({n['severity']}): {n['subject']}")
        if "address" in s and (i == 0 or steps[i - 1].get("address") != s["address"]):
            print(f"{'':<75}  {STAGING_URL} -> {s['address']}")
        if "front_door" in s:
            door = s["front_door"]
            where = f"-> {door['alias']}" if door["alias"] else "does not resolve (paused)"
            print(f"{'':<75}  {API_NAME} {where}; load balancers: {len(door['load_balancers'])}")
    failed = [s for s in steps if not s["ok"]]
    if failed:
        print(f"\n{len(failed)} step(s) failed.", flush=True)


if __name__ == "__main__":
    main()
