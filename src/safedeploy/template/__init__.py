"""Templates as CloudFormation will see them: read, translated, parameters applied, references resolved."""
