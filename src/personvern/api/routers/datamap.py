"""`GET /api/v1/datamap`: the validated data map as JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from personvern.api.deps import DataMapDep, require
from personvern.domain.datamap import DataMap
from personvern.domain.roles import Permission

router = APIRouter(tags=["datamap"])


@router.get(
    "/datamap",
    response_model=DataMap,
    dependencies=[Depends(require(Permission.DATAMAP_READ))],
)
def get_datamap(datamap: DataMapDep) -> DataMap:
    """The data map the server loaded: systems, datasets, fields, purposes, recipients."""
    return datamap
