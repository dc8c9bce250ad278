"""Payload models, one module per producing service."""

from .churn import ChurnRiskTierChangedV1
from .customers import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    CustomerUpdatedV1,
    ImportantDateUpcomingV1,
    InteractionLoggedV1,
)
from .orders import (
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderFulfilledV1,
    OrderPaidV1,
    OrderPlacedV1,
    OrderReturnedV1,
)
from .sales import (
    ActivityDueV1,
    ActivityLoggedV1,
    LeadConvertedV1,
    OpportunityCreatedV1,
    OpportunityLostV1,
    OpportunityStageChangedV1,
    OpportunityWonV1,
)
from .segmentation import CustomerSegmentChangedV1, SegmentMemberAddedV1, SegmentMemberRemovedV1
from .sharing import (
    AgreementActivatedV1,
    AgreementSuspendedV1,
    AgreementTerminatedV1,
    PartnerInteractionContributedV1,
    PartnerLeadContributedV1,
)
from .tickets import (
    SlaBreachedV1,
    SurveyAnsweredV1,
    TicketClosedV1,
    TicketFirstRespondedV1,
    TicketOpenedV1,
    TicketReopenedV1,
    TicketResolvedV1,
)

__all__ = [
    "AgreementActivatedV1",
    "AgreementSuspendedV1",
    "AgreementTerminatedV1",
    "ActivityDueV1",
    "ActivityLoggedV1",
    "LeadConvertedV1",
    "OpportunityCreatedV1",
    "OpportunityLostV1",
    "OpportunityStageChangedV1",
    "OpportunityWonV1",
    "CustomerSegmentChangedV1",
    "SegmentMemberAddedV1",
    "SegmentMemberRemovedV1",
    "ChurnRiskTierChangedV1",
    "OrderCancelledV1",
    "OrderDeliveredV1",
    "OrderFulfilledV1",
    "OrderPaidV1",
    "OrderPlacedV1",
    "OrderReturnedV1",
    "SlaBreachedV1",
    "SurveyAnsweredV1",
    "TicketClosedV1",
    "TicketFirstRespondedV1",
    "TicketOpenedV1",
    "TicketReopenedV1",
    "TicketResolvedV1",
    "ConsentGrantedV1",
    "ConsentWithdrawnV1",
    "CustomerErasedV1",
    "CustomerRegisteredV1",
    "CustomerUpdatedV1",
    "CustomersMergedV1",
    "ImportantDateUpcomingV1",
    "InteractionLoggedV1",
    "PartnerInteractionContributedV1",
    "PartnerLeadContributedV1",
]
