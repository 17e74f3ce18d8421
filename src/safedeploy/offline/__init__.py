"""Offline AWS: moto extended to run Lambda code in-process, and a small CodeDeploy emulator."""
