"""Bootstraps the simulated staging stack in moto, idempotently, and prints the
`export` lines that point the functions and stagingctl at it (stdout only)."""
import json
import shlex
import sys

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
region = "us-east-1"
account = "123456789012"  # moto's default account
names = {
    "cluster": "staging",
    "service": "staging-backend",
    "table": "staging-control",
    "topic": "staging-team",
    "queue": "staging-team",
    "schedule_group": "staging-control",
    "scheduler_role": "staging-control-scheduler",
    "budget": "staging-monthly",
}


def client(service):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def log(message):
    print(f"bootstrap: {message}", file=sys.stderr)


def code(error):
    return error.response.get("Error", {}).get("Code", "")


# ECS: a Fargate service with desired count 1, in a real subnet and security group of
# moto's default VPC.
ec2, ecs = client("ec2"), client("ecs")
vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"][0]["GroupId"]
ecs.create_cluster(clusterName=names["cluster"])
services = ecs.describe_services(cluster=names["cluster"], services=[names["service"]])["services"]
if not any(s["status"] == "ACTIVE" for s in services):
    task = ecs.register_task_definition(
        family="staging-backend",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "api", "image": "public.ecr.aws/docker/library/node:22-alpine", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=names["cluster"],
        serviceName=names["service"],
        taskDefinition=task,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "ENABLED"}},
    )
    log(f"created ECS service {names['cluster']}/{names['service']} (desired 1)")

# The staging address's load balancer, as the template's routing expects it: an ALB with
# an HTTP listener forwarding to the app's target group (IP targets: Fargate tasks), and the
# front door's target group (a Lambda target) it is switched to while staging sleeps. Not
# switched by default: exported as LOCAL_*; a test or the demo that wants the switch copies
# them into STAGING_LISTENER_ARN and its companions. moto runs no health checks: a
# registered target is healthy, so the tests and the demo register the app's task
# themselves when it would pass them.
elb = client("elbv2")
try:
    lb = elb.describe_load_balancers(Names=["staging-alb"])["LoadBalancers"][0]
except ClientError as e:
    if code(e) != "LoadBalancerNotFound":
        raise
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    lb = elb.create_load_balancer(Name="staging-alb", Subnets=subnets, SecurityGroups=[group], Type="application")["LoadBalancers"][0]
target_groups = {}
for tg_name, kind in (("staging-app", "ip"), ("staging-front-door", "lambda")):
    try:
        target_groups[kind] = elb.describe_target_groups(Names=[tg_name])["TargetGroups"][0]["TargetGroupArn"]
    except ClientError as e:
        if code(e) != "TargetGroupNotFound":
            raise
        extra = {"Protocol": "HTTP", "Port": 3000, "VpcId": vpc} if kind == "ip" else {}
        target_groups[kind] = elb.create_target_group(Name=tg_name, TargetType=kind, **extra)["TargetGroups"][0]["TargetGroupArn"]
listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
listener = listeners[0]["ListenerArn"] if listeners else elb.create_listener(
    LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
    DefaultActions=[{"Type": "forward", "TargetGroupArn": target_groups["ip"]}],
)["Listeners"][0]["ListenerArn"]

# DynamoDB: the state table, with TTL on `expiration` and the `history` index the audit
# trail is read through (as template.yaml declares it).
ddb = client("dynamodb")
try:
    ddb.create_table(
        TableName=names["table"],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "log", "AttributeType": "S"},
            {"AttributeName": "at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "history",
                "KeySchema": [{"AttributeName": "log", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    log(f"created table {names['table']}")
except ClientError as e:
    if code(e) != "ResourceInUseException":
        raise
    # A table from before the audit trail: add its index.
    table = ddb.describe_table(TableName=names["table"])["Table"]
    if not any(i["IndexName"] == "history" for i in table.get("GlobalSecondaryIndexes", [])):
        known = [a for a in table["AttributeDefinitions"] if a["AttributeName"] not in ("log", "at")]
        ddb.update_table(
            TableName=names["table"],
            AttributeDefinitions=known + [{"AttributeName": "log", "AttributeType": "S"}, {"AttributeName": "at", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "history",
                "KeySchema": [{"AttributeName": "log", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }}],
        )
        log(f"added the history index to {names['table']}")
ddb.update_time_to_live(TableName=names["table"], TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"})

# SNS topic for the team, and an SQS queue subscribed to it so what is published can be read.
sns, sqs = client("sns"), client("sqs")
topic = sns.create_topic(Name=names["topic"])["TopicArn"]
queue_url = sqs.create_queue(QueueName=names["queue"])["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
subscribed = any(
    s["Endpoint"] == queue_arn for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
)
if not subscribed:
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    log(f"subscribed {names['queue']} to {names['topic']}")

# The dead-letter queue for schedule events Scheduler could not deliver.
dlq_url = sqs.create_queue(QueueName="staging-control-schedule-dlq")["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

# Scheduler: the group for one-time schedules, and the role it would invoke with.
scheduler, iam = client("scheduler"), client("iam")
try:
    scheduler.create_schedule_group(Name=names["schedule_group"])
except ClientError as e:
    if code(e) not in ("ConflictException", "ResourceAlreadyExists"):
        raise
try:
    role_arn = iam.create_role(
        RoleName=names["scheduler_role"],
        AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }),
    )["Role"]["Arn"]
except ClientError as e:
    if code(e) != "EntityAlreadyExists":
        raise
    role_arn = iam.get_role(RoleName=names["scheduler_role"])["Role"]["Arn"]

# Budgets: the staging budget, $6 (about £5) a month.
budgets = client("budgets")
try:
    budgets.create_budget(
        AccountId=account,
        Budget={
            "BudgetName": names["budget"],
            "BudgetLimit": {"Amount": "6", "Unit": "USD"},
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
        },
    )
    log(f"created budget {names['budget']}")
except ClientError as e:
    if code(e) != "DuplicateRecordException":
        raise
# Its alerts as the template makes them: ACTUAL over 80 % and 100 %, FORECASTED over 100 %,
# to the budget topic (here: the team topic), so `stagingctl doctor` passes locally.
for kind, percent in (("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0)):
    try:
        budgets.create_notification(
            AccountId=account,
            BudgetName=names["budget"],
            Notification={"NotificationType": kind, "ComparisonOperator": "GREATER_THAN", "Threshold": percent, "ThresholdType": "PERCENTAGE"},
            Subscribers=[{"SubscriptionType": "SNS", "Address": topic}],
        )
    except ClientError as e:
        if code(e) != "DuplicateRecordException":
            raise

# The template's recurring schedules (default group): startup 08:00 and teardown 18:00 UTC,
# invoking the lifecycle function with Scheduler's own time. moto does not fire them; the
# tests and the demo invoke the function themselves.
lifecycle_arn = f"arn:aws:lambda:{region}:{account}:function:staging-control-lifecycle"
for command, hour in (("startup", 8), ("teardown", 18)):
    try:
        scheduler.create_schedule(
            Name=f"staging-control-{command}",
            ScheduleExpression=f"cron(0 {hour} * * ? *)",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": lifecycle_arn,
                "RoleArn": role_arn,
                "Input": json.dumps({"command": command, "scheduled_time": "<aws.scheduler.scheduled-time>"}),
            },
        )
    except ClientError as e:
        if code(e) not in ("ConflictException", "ResourceAlreadyExists"):
            raise

exports = {
    "AWS_ENDPOINT_URL": endpoint,
    "AWS_REGION": region,
    "AWS_DEFAULT_REGION": region,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "STAGING_ENVIRONMENT": "staging",
    "STAGING_CLUSTER": names["cluster"],
    "STAGING_SERVICE": names["service"],
    "STAGING_TABLE": names["table"],
    "STAGING_TEAM_TOPIC_ARN": topic,
    "STAGING_TEAM_QUEUE_URL": queue_url,
    "STAGING_SCHEDULE_GROUP": names["schedule_group"],
    "STAGING_SCHEDULER_ROLE_ARN": role_arn,
    "STAGING_SCHEDULE_DLQ_ARN": dlq_arn,
    "STAGING_LIFECYCLE_FUNCTION_ARN": lifecycle_arn,
    "STAGING_BUDGET_NAME": names["budget"],
    "GITHUB_REPOSITORY": "acme/app",
    "GITHUB_WEBHOOK_SECRET": "local-webhook-secret",
    # The load balancer above (see there): not switched unless copied into STAGING_*.
    "LOCAL_LISTENER_ARN": listener,
    "LOCAL_APP_TARGET_GROUP_ARN": target_groups["ip"],
    "LOCAL_FRONT_DOOR_TARGET_GROUP_ARN": target_groups["lambda"],
    # As CloudWatch names it: app/<name>/<id>, the ARN's tail.
    "LOCAL_LOAD_BALANCER": lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1],
}
for name, value in exports.items():
    print(f"export {name}={shlex.quote(value)}")
