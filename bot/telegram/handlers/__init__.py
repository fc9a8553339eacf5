"""One aiogram Router per module, each built by a factory (a router joins one Dispatcher)."""
