"""What the content check says of one file (src/core/scan/verdict.ts): one verdict with a stable
code, and the findings, each with a stable code and words naming the tensor or global at fault."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional, Sequence, Union

Verdict = Literal["data-only", "allowlisted-pickle", "code-capable", "malformed", "unknown"]
VERDICTS: Sequence[str] = ("data-only", "allowlisted-pickle", "code-capable", "malformed", "unknown")
#: Which verdicts a guard refuses to load.
UNSAFE: Sequence[str] = ("code-capable", "malformed")
SEVERITY: Dict[str, int] = {"data-only": 0, "allowlisted-pickle": 1, "unknown": 2, "malformed": 3, "code-capable": 4}


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class ContentReport:
    verdict: Verdict
    #: The format the file was read as (``safetensors``, ``pickle``, ``pytorch-zip``...), or None.
    format: Optional[str]
    findings: List[Finding] = field(default_factory=list)

    @property
    def unsafe(self) -> bool:
        return self.verdict in UNSAFE

    def to_json(self) -> Dict[str, Union[str, None, List[Dict[str, str]]]]:
        """The shape ``modelsign scan --json`` gives each file."""
        return {"verdict": self.verdict, "format": self.format, "findings": [{"code": f.code, "message": f.message} for f in self.findings]}


def malformed(format: Optional[str], code: str, message: str) -> ContentReport:
    return ContentReport("malformed", format, [Finding(code, message)])


def worst(format: Optional[str], reports: Sequence[ContentReport]) -> ContentReport:
    """The worse of several reports (code-capable over malformed over unknown...), with the findings of all."""
    verdict: Verdict = "data-only"
    for r in reports:
        if SEVERITY[r.verdict] > SEVERITY[verdict]:
            verdict = r.verdict
    return ContentReport(verdict, format, [f for r in reports for f in r.findings])
