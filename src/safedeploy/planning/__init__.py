"""What a template will do when it deploys: the step-by-step plan and the gate timing table."""
