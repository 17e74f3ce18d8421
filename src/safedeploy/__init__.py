"""safedeploy: check, plan, judge and rehearse safe Lambda deployments made with AWS SAM."""

__version__ = "0.1.0"
