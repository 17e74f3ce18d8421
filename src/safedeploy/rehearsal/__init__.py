"""`safedeploy rehearse`: options, the fake account, the template's functions, and the run."""
