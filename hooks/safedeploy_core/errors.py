"""Domain errors. Each carries a one-line message that ends up in the hook's `Failed` reason."""


class HookError(Exception):
    """A problem that makes the hook report Failed (never a traceback, never a hang)."""


class MalformedEvent(HookError):
    pass


class AppSpecError(HookError):
    pass


class NotAllowed(HookError):
    pass


class SmokeCaseError(HookError):
    pass


class ConfigError(HookError):
    pass
