"""Bodies of the lead routes: the lead's fields, a conversion and what it made, a web-form
submission's answer. As in `schemas`, bodies carry types only and refuse unknown fields; the
services validate and normalise every value."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_app.api.schemas import MAX_INT_ID
from crm_app.services.lead import SETTABLE_STATUSES

MAX_BIG_ID = 2**63 - 1  # contacts.id is a BIGINT


class LeadInput(BaseModel):
    """Lead fields to set; on create a name, an e-mail or a company is needed, on update any
    subset. The score and the conversion links are the system's to set."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = Field(
        None, description="Stored lowercased; an open lead's is unique (409)."
    )
    phone: str | None = Field(None, description="Any common format; stored as E.164.")
    company_name: str | None = None
    title: str | None = None
    source: str | None = Field(None, description="The name of an active lead source.")
    status: str | None = Field(
        None,
        json_schema_extra={"enum": SETTABLE_STATUSES},
        description=(
            "new -> contacted -> qualified | unqualified; qualified and unqualified may swap or"
            " go back to contacted. `converted` is reached only by `POST .../convert`."
        ),
    )
    owner_id: int | None = Field(
        None,
        le=MAX_INT_ID,
        description=(
            "Defaults to the key's user; `null` hands the lead to the next rep of the"
            " assignment team. Reps may only pick themselves (403)."
        ),
    )
    tags: list[str] | None = None
    custom: dict[str, Any] | None = Field(
        None, description="Custom field values by key; on update, null removes a value."
    )


class ConvertInput(BaseModel):
    """How to convert a lead; everything is optional."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(
        None,
        ge=1,
        le=MAX_BIG_ID,
        description="Link this contact instead of matching by e-mail or creating one.",
    )
    account_id: int | None = Field(
        None,
        ge=1,
        le=MAX_INT_ID,
        description="Link this company instead of matching by domain or name or creating one.",
    )
    create_deal: bool | None = Field(
        None, description="Create a deal too; defaults to whether `deal` is given."
    )
    deal: dict[str, Any] | None = Field(
        None,
        description=(
            "Fields of the deal, as for `POST /deals` (`pipeline_id`, `stage_id`, `amount`, ...);"
            " its name, company, contact and owner default from the lead."
        ),
    )


class ConversionResult(BaseModel):
    """What the lead became."""

    lead_id: int
    contact_id: int
    account_id: int | None
    deal_id: int | None
    created_contact: bool = Field(description="False when an existing contact was linked.")
    created_account: bool = Field(description="False when an existing company was linked.")


class FormReceived(BaseModel):
    """The answer to a web-form submission (the same whether or not a lead was made)."""

    message: str
