//! The load balancer's use figures from CloudWatch (`GetMetricData`), for the idle stop.
