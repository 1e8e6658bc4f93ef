"""The peers' runtime for `scripts/bench`: a Python Lambda function speaking the Lambda
Runtime API itself (urllib, as a custom runtime would), which at init does what a
boto3 version of our functions would do: builds a boto3 Session and the clients for
DynamoDB, ECS, SNS and EventBridge Scheduler (endpoint from AWS_ENDPOINT_URL when
set), then answers every event with `{}`.

    AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_REGION=us-east-1 python function.py
"""
import json
import os
import urllib.request

import boto3

endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
session = boto3.Session()
clients = {
    name: session.client(name, endpoint_url=endpoint)
    for name in ("dynamodb", "ecs", "sns", "scheduler")
}


def handler(event, context):
    return {}


api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation"
while True:
    with urllib.request.urlopen(api + "/next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(response.read() or b"null")
    try:
        body, outcome = json.dumps(handler(event, None)).encode(), "response"
    except Exception as e:  # reported to the runtime, as the managed runtime does
        body = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__}).encode()
        outcome = "error"
    answer = urllib.request.Request(
        f"{api}/{request_id}/{outcome}", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(answer).read()
