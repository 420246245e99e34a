"""A usage mistake as one line: what is wrong and the right form of the command (issue 14, item 7).

``offboard evidence list: missing option '--case'. Usage: offboard evidence list --case CASE [OPTIONS]``.
"""

from __future__ import annotations

from typer import _click
from typer.core import TyperArgument, TyperGroup, TyperOption


def usage_error_line(exc: _click.exceptions.UsageError) -> str:
    problem = " ".join(exc.format_message().split())
    problem = problem[:1].lower() + problem[1:]
    ctx = exc.ctx
    if ctx is None:
        return f"offboard: {problem}"
    problem = problem.rstrip(".")
    stop = "" if problem.endswith("?") else "."
    return f"{ctx.command_path}: {problem}{stop} Usage: {usage_form(ctx)}"


def usage_form(ctx: _click.Context) -> str:
    """The command path, its required options with a value, ``[OPTIONS]`` if it has others, its arguments."""
    command = ctx.command
    if isinstance(command, TyperGroup):
        return " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    pieces = [ctx.command_path]
    optional = False
    for param in command.get_params(ctx):
        if isinstance(param, TyperOption):
            if param.required:
                pieces.append(_option_form(param))
            else:
                optional = True
    if optional:
        pieces.append("[OPTIONS]")
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "").upper()
            pieces.append(f"{name}..." if param.nargs != 1 else name)
    return " ".join(pieces)


def _option_form(option: TyperOption) -> str:
    name = max(option.opts, key=len)
    if option.is_flag:
        return name
    return f"{name} {name.lstrip('-').replace('-', '_').upper()}"
