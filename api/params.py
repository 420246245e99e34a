"""Bounded integer parameters shared by the routes.

Every integer a client puts in a path or a query is a ledger index, a tree size or a version: never
negative, and stored in a signed 64-bit column. Bounding it in the schema answers 422 (problem+json)
for a value past ``2**63 - 1`` instead of the database driver's ``OverflowError`` (a 500), and the
OpenAPI document says the range.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

#: Exclusive upper bound of every integer parameter: the range of a signed 64-bit column.
INT64_END = 2**63

#: An integer path or query parameter: ``0 <= n < 2**63``.
Count = Annotated[int, Interval(ge=0, lt=INT64_END)]
#: A positive one (versions start at 1): ``1 <= n < 2**63``.
Positive = Annotated[int, Interval(ge=1, lt=INT64_END)]
