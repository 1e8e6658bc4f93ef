"""Looks at local AWS with boto3 (moto's own venv) and prints JSON, for the tests'
assertions on services the functions do not call (ELBv2, EC2, Route 53): the tests do
not compile those SDKs for Rust (EC2's alone is the largest crate of the SDK).

    observe.py ENDPOINT REGION load-balancers
    observe.py ENDPOINT REGION nat-gateways
    observe.py ENDPOINT REGION create-zone NAME      # prints the hosted zone id
    observe.py ENDPOINT REGION records ZONE_ID
"""
import json
import sys

import boto3


def main(endpoint, region, what, *args):
    kw = dict(endpoint_url=endpoint, region_name=region,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    if what == "load-balancers":
        # The pause stack's: the bootstrap's own (scale mode's address, "staging-alb") aside.
        lbs = boto3.client("elbv2", **kw).describe_load_balancers()["LoadBalancers"]
        return [{"arn": lb["LoadBalancerArn"], "dns": lb["DNSName"]} for lb in lbs if lb["LoadBalancerName"] != "staging-alb"]
    if what == "nat-gateways":
        nats = boto3.client("ec2", **kw).describe_nat_gateways()["NatGateways"]
        return [{"id": n["NatGatewayId"], "state": n["State"]} for n in nats]
    if what == "create-zone":
        zone = boto3.client("route53", **kw).create_hosted_zone(Name=args[0], CallerReference=args[0])
        return zone["HostedZone"]["Id"].split("/")[-1]
    if what == "records":
        sets = boto3.client("route53", **kw).list_resource_record_sets(HostedZoneId=args[0])["ResourceRecordSets"]
        return [{"name": r["Name"].rstrip("."), "type": r["Type"],
                 "alias": (r.get("AliasTarget") or {}).get("DNSName")} for r in sets]
    raise SystemExit(f"observe.py: unknown question {what!r}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
