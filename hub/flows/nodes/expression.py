"""A safe arithmetic evaluator (an `ast` whitelist compiled once into closures, never eval) and its node."""

import ast
import functools
import logging
import math
import operator
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType
from hub.flows.nodes.common import parsed_by

MAX_EXPONENT = 1000
MAX_LENGTH = 1000
VARIABLES = ("a", "b", "c", "d")

Evaluator = Callable[[Mapping[str, Any]], Any]


class ExpressionError(ValueError):
    """An expression refused at load time, or one that failed on the values it was given."""


def _power(base: Any, exponent: Any) -> float:
    if abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"exponent {exponent} is too large (at most {MAX_EXPONENT})")
    result = float(base) ** exponent
    if isinstance(result, complex):
        raise ExpressionError(f"{base} ** {exponent} is not a real number")
    return result


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _average(*values: float) -> float:
    return statistics.fmean(values)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "min": min,
    "max": max,
    "avg": _average,
    "clamp": _clamp,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
}
CONSTANTS = {"pi": math.pi, "e": math.e, "true": True, "false": False}
_REFUSED = {
    ast.Attribute: "attribute access (x.y) is not allowed",
    ast.Subscript: "indexing (x[...]) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Starred: "* unpacking is not allowed",
}


@dataclass(frozen=True)
class Expression:
    """A compiled expression: call it with the variables' values."""

    source: str
    names: frozenset[str]  # the variables it reads
    evaluate: Evaluator

    def __call__(self, values: Mapping[str, Any]) -> Any:
        try:
            return self.evaluate(values)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ExpressionError(f"{self.source}: {exc}") from exc


def _constant(value: Any) -> Evaluator:
    return lambda values: value


def _variable(name: str) -> Evaluator:
    return lambda values: values[name]


def _binary(function: Callable[[Any, Any], Any], left: Evaluator, right: Evaluator) -> Evaluator:
    return lambda values: function(left(values), right(values))


def _unary(function: Callable[[Any], Any], operand: Evaluator) -> Evaluator:
    return lambda values: function(operand(values))


def _boolean(is_and: bool, operands: list[Evaluator]) -> Evaluator:
    if is_and:
        return lambda values: all(operand(values) for operand in operands)
    return lambda values: any(operand(values) for operand in operands)


def _compare(first: Evaluator, steps: list[tuple[Callable[[Any, Any], bool], Evaluator]]) -> Evaluator:
    def evaluate(values: Mapping[str, Any]) -> bool:
        left = first(values)
        for function, operand in steps:
            right = operand(values)
            if not function(left, right):
                return False
            left = right
        return True

    return evaluate


def _condition(test: Evaluator, body: Evaluator, orelse: Evaluator) -> Evaluator:
    return lambda values: body(values) if test(values) else orelse(values)


def _call(function: Callable[..., Any], arguments: list[Evaluator]) -> Evaluator:
    return lambda values: function(*(argument(values) for argument in arguments))


class _Compiler:
    """Turns a whitelisted syntax tree into nested closures, collecting the variables it reads."""

    def __init__(self, variables: tuple[str, ...]) -> None:
        self.variables = variables
        self.used: set[str] = set()

    def compile(self, node: ast.expr) -> Evaluator:
        if type(node) in _REFUSED:
            raise ExpressionError(_REFUSED[type(node)])
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool | int | float):
                return _constant(node.value)
            raise ExpressionError(f"only numbers are allowed as constants, not {node.value!r}")
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _binary(_BINARY[type(node.op)], self.compile(node.left), self.compile(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _unary(_UNARY[type(node.op)], self.compile(node.operand))
        if isinstance(node, ast.BoolOp):
            return _boolean(isinstance(node.op, ast.And), [self.compile(value) for value in node.values])
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            steps = [
                (_COMPARE[type(op)], self.compile(right))
                for op, right in zip(node.ops, node.comparators, strict=True)
            ]
            return _compare(self.compile(node.left), steps)
        if isinstance(node, ast.IfExp):
            return _condition(self.compile(node.test), self.compile(node.body), self.compile(node.orelse))
        if isinstance(node, ast.Call):
            return self._call(node)
        symbol = getattr(node, "op", None) or (node.ops[0] if isinstance(node, ast.Compare) else node)
        raise ExpressionError(f"{type(symbol).__name__} is not allowed in an expression")

    def _name(self, name: str) -> Evaluator:
        if name in self.variables:
            self.used.add(name)
            return _variable(name)
        if name in CONSTANTS:
            return _constant(CONSTANTS[name])
        if name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function: call it, e.g. {name}(a, b)")
        known = ", ".join((*self.variables, *CONSTANTS))
        raise ExpressionError(f"unknown name {name!r}: use {known}")

    def _call(self, node: ast.Call) -> Evaluator:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(f"unknown function {called!r}: allowed are {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes no keyword arguments")
        if not node.args:
            raise ExpressionError(f"{node.func.id}() needs at least one argument")
        return _call(FUNCTIONS[node.func.id], [self.compile(argument) for argument in node.args])


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str, variables: tuple[str, ...] = VARIABLES) -> Expression:
    """Check `source` against the whitelist and compile it; an ExpressionError says what is refused."""
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:  # NUL bytes, absurd nesting
        raise ExpressionError(f"cannot parse expression: {exc}") from exc
    compiler = _Compiler(variables)
    evaluate = compiler.compile(tree.body)
    return Expression(source, frozenset(compiler.used), evaluate)


expression_parameter = parsed_by(compile_expression, ExpressionError, "an expression such as 'a * 0.5 + b'")


class ExpressionNode(Node):
    TYPE = "expression"
    CATEGORY = Category.MATH
    DESCRIPTION = (
        "Computes a formula over inputs a, b, c and d, e.g. `clamp(a + (b - 20) * 0.5, 12, 18)`, each time "
        "an input changes once every input the formula uses has a value. Arithmetic (+ - * / // % **), "
        "comparisons, and/or/not, `x if cond else y`, the constants pi and e and the functions "
        "abs, min, max, avg, clamp, round, floor, ceil, sqrt, exp, log and log10 are allowed; anything else "
        "(attributes, other calls, strings) is refused when the flow loads. A formula that fails on its "
        "values (division by zero) logs a warning and emits nothing."
    )
    SCHEMA = vol.Schema(
        {vol.Required("expression", description="the formula over a, b, c, d"): expression_parameter}
    )
    INPUTS = tuple(Port(name, PortType.ANY) for name in VARIABLES)
    OUTPUTS = (Port("result", PortType.ANY, "the formula's value"),)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._expression = compile_expression(params["expression"])
        self._values: dict[str, Any] = {}
        self._missing = set(self._expression.names)

    def start(self) -> None:
        if not self._expression.names:  # a constant formula has nothing to wait for
            self.runtime.call_later(0, self._evaluate)

    def on_input(self, port: str, value: Any) -> None:
        self._values[port] = value
        if self._missing:
            self._missing.discard(port)
            if self._missing:
                return
        self._evaluate()

    def _evaluate(self) -> None:
        try:
            result = self._expression(self._values)
        except ExpressionError as exc:
            self.runtime.log(logging.WARNING, str(exc))
            return
        self.runtime.emit("result", result)
