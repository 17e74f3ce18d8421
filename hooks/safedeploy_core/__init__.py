"""Logic shared by the CodeDeploy hooks (Lambda) and the safedeploy CLI.

Pure modules take and return plain data (appspec, smoke, judge, timing, deadline); the adapters
(codedeploy, invoke_checks, http_checks, alarm_checks, metrics) take their boto3 clients as arguments.
"""
