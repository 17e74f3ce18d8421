"""Authorization as IAM decides it, for the calls the kit and CodeDeploy make: evaluation logic
(policy.py, match.py), the ARN each call is authorized against (actions.py), AWS managed policies as
data (managed.py), the policies of a role from a translated template (principals.py), the calls each
principal makes (calls.py) and check's rule over them (rule.py)."""
