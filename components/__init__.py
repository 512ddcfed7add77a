"""Building blocks of the k8s-platform Pulumi program.

Pure modules (settings, sizing, quantities, subnets, versions, host) import no Pulumi and are tested directly;
the aws_* modules hold one ComponentResource each and only declare resources from the pure layer's results.
"""
