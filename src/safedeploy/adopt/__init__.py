"""`safedeploy init`: safe deployments added to an existing SAM app, one module per concern.

functions.py chooses the functions and says what cannot be done; document.py reads and writes a
template keeping its layout; edits.py adds the settings; smoke_cases.py writes the case files;
deployment_type.py picks each environment's type with `plan`'s own fit; samconfig_edit.py edits
samconfig.toml; kit.py finds the hooks and alarm pack shipped with the package; changes.py puts
them together into a set of file changes, shown as a diff and written atomically.
"""
