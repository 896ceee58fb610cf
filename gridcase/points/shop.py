"""The points shop (信用超市): a resident's points redeemed for a reward at the community desk.

- Staff of the reward's community (grid staff holding it) redeem for a resident of that community, found by
  the code on the resident's card/phone (`ResidentCredit.code`) or by search.
- Atomic: the reward row and then the resident's credit row are locked (`select_for_update`, always in that
  order, so two desks never deadlock); stock and balance are checked and decreased in the same transaction as
  the redemption and its ledger entry. CHECK constraints (stock ≥ 0, balance ≥ 0) are the last guard.
- Once per `client_key` (the desk's request id): a double click or a resent request answers the first
  redemption. Two desks redeeming the last item at once: one succeeds, the other gets `out_of_stock`.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Conflict, Forbidden, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.roles import EDITOR_ROLES
from gridcase.grids.scoping import scope_for

from .models import Redemption, ResidentCredit, Reward
from .rules import award

DESK_ROLES = EDITOR_ROLES
"""Redeem at the community desk and manage its rewards: the community's workers and secretary."""


def redeem(actor, reward_id: int, resident, client_key: str) -> tuple[Redemption, bool]:
    client_key = (client_key or "").strip()
    if not client_key or len(client_key) > 64:
        raise ValidationFailed(fields={"client_key": [_("Send a request id of 1 to 64 characters.")]})
    existing = Redemption.objects.filter(client_key=client_key).first()
    if existing is not None:
        return _replay(existing, reward_id, resident)
    scope = scope_for(actor)
    try:
        with transaction.atomic():
            reward = Reward.objects.select_for_update().select_related("community").filter(pk=reward_id).first()
            if reward is None or not (scope.is_global or scope.covers(reward.community)):
                raise ValidationFailed(fields={"reward": [_("Nothing with id %(id)s in your area.") % {"id": reward_id}]})
            if not (scope.is_global or scope.roles_at(reward.community) & DESK_ROLES):
                raise Forbidden(_("Only the community's staff can redeem at its desk."))
            if not tree.is_inside(resident.grid, reward.community):
                raise ValidationFailed(_("This resident does not live in the reward's community."),
                                       code="other_community", fields={"resident": [_("Not in this community.")]})
            if not reward.active:
                raise Conflict(_("This reward is no longer offered."), code="reward_inactive")
            if reward.stock < 1:
                raise Conflict(_("This reward is out of stock."), code="out_of_stock",
                               current={"stock": reward.stock})
            ResidentCredit.objects.get_or_create(resident=resident)
            credit = ResidentCredit.objects.select_for_update().get(resident=resident)
            if credit.balance < reward.price:
                raise Conflict(_("Not enough points: %(balance)s, the reward costs %(price)s.")
                               % {"balance": credit.balance, "price": reward.price}, code="insufficient_points",
                               current={"balance": credit.balance})
            Reward.objects.filter(pk=reward.pk).update(stock=reward.stock - 1)
            redemption = Redemption.objects.create(reward=reward, resident=resident, staff=actor,
                                                   points=reward.price, client_key=client_key)
            entry = award("redemption", redemption, resident, grid=resident.grid, points=-reward.price, by=actor)
            Redemption.objects.filter(pk=redemption.pk).update(entry=entry)
            redemption.entry = entry
    except IntegrityError:
        existing = Redemption.objects.filter(client_key=client_key).first()
        if existing is None:
            raise
        return _replay(existing, reward_id, resident)
    return redemption, True


def _replay(existing, reward_id, resident):
    if existing.reward_id == int(reward_id) and existing.resident_id == resident.pk:
        return existing, False
    raise Conflict(_("This request id was already used for another redemption."), code="conflict")
