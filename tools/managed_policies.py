"""Write src/safedeploy/iam/data/managed_policies.json: the AWS managed policies templates commonly
attach to Lambda and CodeDeploy roles, with their contents as IAM serves them.

Source: moto's copy of the AWS managed policies (`moto/iam/aws_managed_policies.py`, refreshed by moto
from IAM's GetPolicyVersion for every AWS managed policy). Run with the pinned moto:
`.venv/bin/python tools/managed_policies.py`; the file records moto's version and each policy's
version id and update date, so a reader can compare with IAM's own listing.
"""

from __future__ import annotations

import json
from pathlib import Path

NAMES = [
    "AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess",
    "AWSCodeDeployRoleForLambda",
    "AWSCodeDeployRoleForLambdaLimited",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaRole",
    "AWSLambdaExecute",
    "CloudWatchLambdaInsightsExecutionRolePolicy",
    "AWSLambdaMSKExecutionRole",
    "AmazonSSMReadOnlyAccess",
    "CloudWatchReadOnlyAccess",
    "AWSCodeDeployReadOnlyAccess",
]

OUT = Path(__file__).resolve().parents[1] / "src" / "safedeploy" / "iam" / "data" / "managed_policies.json"


def main() -> None:
    import moto
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    every = json.loads(aws_managed_policies_data)
    policies = {}
    for name in NAMES:
        p = every[name]
        policies[name] = {
            "Arn": f"arn:aws:iam::aws:policy{p['Path']}{name}",
            "DefaultVersionId": p["DefaultVersionId"],
            "UpdateDate": p["UpdateDate"],
            "Document": p["Document"],
        }
    doc = {
        "source": f"moto {moto.__version__}, moto/iam/aws_managed_policies.py (IAM GetPolicyVersion of each)",
        "policies": policies,
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(policies)} policies -> {OUT}")


if __name__ == "__main__":
    main()
