"""The secrecy of unannounced visits, checked for every role against every read.

The matrix is generated: each user (every role, and the target's chain at each level)
against each endpoint, filter, count and feed, before and after publication. Where
DOMAIN.md says a user may not know of the visit, the answer must be exactly what a
missing object gets: 404, or absence, or a count that does not include it.
"""

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audits.choices import Role
from audits.models import Draw
from audits.services.draws import commitment
from tests.conftest import bearer
from tests.factories import (
    CampaignFactory,
    FindingFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    tree,
)

pytestmark = pytest.mark.django_db

# Who may know of the unannounced visit before it is closed and published, and after.
USERS = {
    "planner_city": ([Role.PLANNER], "city"),
    "leader_city": ([Role.LEADER], "city"),
    "lead_a": ([Role.TEAM_LEAD], "city"),
    "inspector_a": ([Role.INSPECTOR], "city"),
    "auditor": ([Role.AUDITOR], "city"),
    "inspector_b": ([Role.INSPECTOR], "city"),
    "planner_county": ([Role.PLANNER], "county_a"),
    "leader_county": ([Role.LEADER], "county_a"),
    "planner_town": ([Role.PLANNER], "town_a"),
    "official_town": ([Role.UNIT_OFFICIAL], "town_a"),
    "official_village": ([Role.UNIT_OFFICIAL], "village_a"),
    "planner_other_county": ([Role.PLANNER], "county_b"),
    "official_other_village": ([Role.UNIT_OFFICIAL], "village_b"),
}
SEES_VISIT = {"planner_city", "leader_city", "lead_a", "inspector_a", "auditor"}
# After publication the target's chain sees the published finding (not the visit).
SEES_PUBLISHED = SEES_VISIT | {
    "planner_county",
    "leader_county",
    "planner_town",
    "official_village",
}


def build(published: bool):
    units = tree()
    users = {
        name: UserFactory(username=name, roles=roles, unit=units[home])
        for name, (roles, home) in USERS.items()
    }
    team_a = TeamFactory(lead=users["lead_a"], members=[users["inspector_a"]])
    TeamFactory(
        lead=UserFactory(roles=[Role.TEAM_LEAD], unit=units["city"]), members=[users["inspector_b"]]
    )
    campaign = CampaignFactory(
        unit=units["city"],
        mode="unannounced",
        starts_on=date.today() - timedelta(days=30),
        ends_on=date.today() - timedelta(days=1),
    )
    visit = VisitFactory(
        campaign=campaign,
        team=team_a,
        target=units["village_a"],
        status="closed" if published else "in_progress",
        closed_at=timezone.now() if published else None,
    )
    seed = "a-seed-for-the-matrix"
    Draw.objects.create(
        campaign=campaign,
        seed=seed,
        commitment=commitment(seed),
        frame_unit=units["county_a"],
        level="village",
        size=1,
        targets=[visit.target_id],
        frame=[visit.target.code],
        drawn_by=users["planner_city"],
    )
    finding = FindingFactory(
        visit=visit,
        status="published" if published else "submitted",
        rectify_by=date.today() + timedelta(days=30) if published else None,
    )
    return {
        "units": units,
        "users": users,
        "campaign": campaign,
        "visit": visit,
        "finding": finding,
    }


def reads(w):
    """(name, request, predicate on the answer telling whether the secret showed)."""
    c, v, f = w["campaign"].pk, w["visit"].pk, w["finding"].pk
    county, village = w["units"]["county_a"].pk, w["units"]["village_a"].pk

    def listed(ident):
        return lambda a: (
            a.status_code == 200 and str(ident) in {r["id"] for r in a.json()["results"]}
        )

    def found(a):
        return a.status_code == 200

    def counted(a):
        return a.status_code == 200 and a.json()["findings"]["total"] > 0

    def synced(a):
        changes = a.json()["changes"]
        return any(
            str(x["id"]) in {str(v), str(f)} for x in changes["visits"] + changes["findings"]
        )

    return {
        "campaign detail": ("get", f"/api/v1/campaigns/{c}", found, "visit"),
        "campaign list": ("get", "/api/v1/campaigns", listed(c), "visit"),
        "campaign list by mode": ("get", "/api/v1/campaigns?mode=unannounced", listed(c), "visit"),
        "campaign draw": ("get", f"/api/v1/campaigns/{c}/draw", found, "visit"),
        "visit detail": ("get", f"/api/v1/visits/{v}", found, "visit"),
        "visit list": ("get", "/api/v1/visits", listed(v), "visit"),
        "visit list by campaign": ("get", f"/api/v1/visits?campaign={c}", listed(v), "visit"),
        "visit list by status": (
            "get",
            f"/api/v1/visits?status={w['visit'].status}",
            listed(v),
            "visit",
        ),
        "visit check-in": (
            "post",
            f"/api/v1/visits/{v}/check-in",
            lambda a: a.status_code != 404,
            "visit",
        ),
        "visit close": (
            "post",
            f"/api/v1/visits/{v}/close",
            lambda a: a.status_code != 404,
            "visit",
        ),
        "finding detail": ("get", f"/api/v1/findings/{f}", found, "finding"),
        "finding list": ("get", "/api/v1/findings", listed(f), "finding"),
        "finding list by campaign": ("get", f"/api/v1/findings?campaign={c}", listed(f), "finding"),
        "finding list by unit": ("get", f"/api/v1/findings?unit={county}", listed(f), "finding"),
        "finding list by visit": ("get", f"/api/v1/findings?visit={v}", listed(f), "finding"),
        "finding list by severity": (
            "get",
            "/api/v1/findings?severity=major",
            listed(f),
            "finding",
        ),
        "finding confirm": (
            "post",
            f"/api/v1/findings/{f}/confirm",
            lambda a: a.status_code != 404,
            "finding",
        ),
        "stats for the county": ("get", f"/api/v1/stats?unit={county}", counted, "finding"),
        "stats for the village": ("get", f"/api/v1/stats?unit={village}", counted, "finding"),
        "sync": ("get", "/api/v1/sync", synced, "finding"),
    }


@pytest.mark.parametrize("published", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("who", sorted(USERS))
def test_matrix(who, published):
    w = build(published)
    client = bearer(w["users"][who])
    allowed = SEES_PUBLISHED if published else SEES_VISIT
    wrong = []
    for name, (method, url, showed, thing) in reads(w).items():
        may = who in SEES_VISIT if thing == "visit" else who in allowed
        body = (
            {"lat": 34.0, "lon": 117.0, "at": timezone.now().isoformat()}
            if method == "post"
            else None
        )
        answer = (
            getattr(client, method)(url, body, format="json")
            if body
            else getattr(client, method)(url)
        )
        if answer.status_code >= 500:
            wrong.append(f"{name}: {answer.status_code}")
        elif showed(answer) != may and not (may and method == "post"):
            wrong.append(f"{name}: {'hidden' if may else 'leaked'} ({answer.status_code})")
        if not may and answer.status_code == 404:
            assert answer.json()["code"] == "not_found", name
    assert wrong == [], f"{who} ({'after' if published else 'before'} publication)"


def test_404_for_a_secret_visit_is_identical_to_a_missing_one():
    w = build(published=False)
    client = bearer(w["users"]["planner_county"])
    secret = client.get(f"/api/v1/visits/{w['visit'].pk}")
    missing = client.get(f"/api/v1/visits/{uuid.uuid4()}")
    assert secret.status_code == missing.status_code == 404
    assert secret.json() == missing.json()


# --- creates with a client-chosen id ------------------------------------------------------
#
# An id taken by something the caller may not see must tell nothing: its answer is, byte for
# byte, the one a malformed or reserved id gets (400 `id_unusable` on `id`). The caller's
# own objects and those it may see follow the contract: same body 200, other body 409.

NIL = "00000000-0000-0000-0000-000000000000"
MALFORMED = "not-a-uuid"


def creates_world():
    """The secret world of `build`, plus team B's own announced visit (the field creators:
    inspector_b, beside team-mate lead_b) and what county B plans (the planning creator:
    planner_other_county, who sees county B's campaigns, teams and visits it did not make)."""
    from audits.models import Photo, PhotoUpload, Team
    from tests.factories import ChecklistItemFactory

    w = build(published=False)
    units, users = w["units"], w["users"]
    team_b = Team.objects.get(members=users["inspector_b"])
    lead_b = team_b.lead
    campaign_b = CampaignFactory(unit=units["city"], mode="announced")
    item_b = ChecklistItemFactory(checklist=campaign_b.checklist)
    visit_b = VisitFactory(
        campaign=campaign_b, team=team_b, target=units["village_b"], status="in_progress"
    )
    county_campaign = CampaignFactory(unit=units["county_b"], mode="announced")
    city_lead = UserFactory(roles=[Role.TEAM_LEAD], unit=units["city"])
    county_team = TeamFactory(lead=city_lead, owner_unit=units["county_b"])

    def photo(finding, visit, by, seed):
        return Photo.objects.create(
            finding=finding,
            visit=visit,
            uploaded_by=by,
            sha256=f"{seed:064x}",
            size=1,
            content_type="image/jpeg",
            original=f"originals/{seed}",
        )

    return {
        **w,
        "team_b": team_b,
        "lead_b": lead_b,
        "visit_b": visit_b,
        "item_b": item_b,
        "county_campaign": county_campaign,
        "county_team": county_team,
        "county_lead": UserFactory(roles=[Role.TEAM_LEAD], unit=units["county_b"]),
        # Seen by inspector_b, not theirs: team-mate lead_b's finding and photo.
        "mate_finding": FindingFactory(visit=visit_b, created_by=lead_b, checklist_item=item_b),
        "mate_photo": photo(None, visit_b, lead_b, 1),
        # Never seen by inspector_b: team A's secret photo, and lead_b's upload session.
        "secret_photo": photo(w["finding"], w["visit"], users["lead_a"], 2),
        "mate_upload": PhotoUpload.objects.create(
            id=uuid.uuid4(), owner=lead_b, visit=visit_b, size=10, sha256="3" * 64
        ),
        # Seen by planner_other_county, not theirs: county B's campaign, team and visit.
        "mate_campaign": CampaignFactory(unit=units["county_b"], mode="announced"),
        "mate_team": TeamFactory(lead=city_lead, owner_unit=units["county_b"]),
        "mate_visit": VisitFactory(
            campaign=county_campaign, team=county_team, target=units["town_b"]
        ),
    }


def _jpeg(seed: int) -> bytes:
    from tests.photos.make_corpus import jpeg

    return jpeg(seed)


def _photo_post(client, pk: str, body: dict):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    data = _jpeg(body["seed"])
    form = {
        "id": pk,
        "visit": body["visit"],
        "sha256": hashlib.sha256(data).hexdigest(),
        "file": SimpleUploadedFile("a.jpg", data, content_type="image/jpeg"),
    }
    return client.post("/api/v1/photos", form, format="multipart")


def creates(cw):
    """Per create: (creator, post(client, id, variant) -> answer, ids by kind).

    Variant "a" and "b" are two different bodies; the ids are of objects that exist already
    (own ones are made by the test through the API first).
    """
    users = cw["users"]
    village_b, county_b = cw["units"]["village_b"], cw["units"]["county_b"]
    now = timezone.now().isoformat()

    def finding(client, pk, variant):
        body = {
            "id": pk,
            "visit": str(cw["visit_b"].pk),
            "checklist_item": str(cw["item_b"].pk),
            "severity": "major",
            "title": f"问题{variant}",
            "observed_at": now,
        }
        return client.post("/api/v1/findings", body, format="json")

    def campaign(client, pk, variant):
        body = {
            "id": pk,
            "title": f"明察{variant}",
            "mode": "announced",
            "unit": str(county_b.pk),
            "starts_on": (date.today() + timedelta(days=1)).isoformat(),
            "ends_on": (date.today() + timedelta(days=20)).isoformat(),
            "checklist": str(cw["county_campaign"].checklist_id),
        }
        return client.post("/api/v1/campaigns", body, format="json")

    def team(client, pk, variant):
        body = {"id": pk, "name": f"检查组{variant}", "lead": cw["county_lead"].pk, "members": []}
        return client.post("/api/v1/teams", body, format="json")

    def visit(client, pk, variant):
        body = {
            "id": pk,
            "campaign": str(cw["county_campaign"].pk),
            "target": str(village_b.pk if variant == "a" else cw["units"]["town_b"].pk),
            "team": str(cw["county_team"].pk),
        }
        return client.post("/api/v1/visits", body, format="json")

    def photo(client, pk, variant):
        return _photo_post(client, pk, {"seed": 10 if variant == "a" else 11, "visit": vb})

    def upload(client, pk, variant):
        body = {
            "id": pk,
            "size": 1000 if variant == "a" else 2000,
            "sha256": "a" * 64,
            "visit": vb,
            "filename": "IMG.jpg",
        }
        return client.post("/api/v1/uploads", body, format="json")

    vb = str(cw["visit_b"].pk)
    secret_finding, secret_visit = cw["finding"].pk, cw["visit"].pk
    return {
        "findings": (
            users["inspector_b"],
            finding,
            {"seen": cw["mate_finding"].pk, "unseen": [secret_finding]},
        ),
        "campaigns": (
            users["planner_other_county"],
            campaign,
            {"seen": cw["mate_campaign"].pk, "unseen": [cw["campaign"].pk]},
        ),
        "teams": (
            users["planner_other_county"],
            team,
            {"seen": cw["mate_team"].pk, "unseen": [cw["visit"].team_id]},
        ),
        "visits": (
            users["planner_other_county"],
            visit,
            {"seen": cw["mate_visit"].pk, "unseen": [secret_visit]},
        ),
        "photos": (
            users["inspector_b"],
            photo,
            {"seen": cw["mate_photo"].pk, "unseen": [cw["secret_photo"].pk]},
        ),
        "uploads": (
            users["inspector_b"],
            upload,
            {
                "seen": cw["mate_photo"].pk,
                "unseen": [cw["secret_photo"].pk, cw["mate_upload"].pk],
            },
        ),
    }


def _same_bytes(a, b) -> tuple:
    return (a.status_code, a["Content-Type"], a.content) == (
        b.status_code,
        b["Content-Type"],
        b.content,
    )


@pytest.mark.parametrize("kind", ["findings", "campaigns", "teams", "visits", "photos", "uploads"])
def test_creates_with_every_kind_of_id(kind):
    cw = creates_world()
    creator, post, ids = creates(cw)[kind]
    client = bearer(creator)
    wrong = []

    def expect(label, answer, status, code=None):
        if answer.status_code != status or (code and answer.json().get("code") != code):
            wrong.append(f"{label}: {answer.status_code} {answer.content[:200]!r}")

    fresh = str(uuid.uuid4())
    expect("fresh", post(client, fresh, "a"), 201)
    expect("own, same body", post(client, fresh, "a"), 200)
    expect("own, other body", post(client, fresh, "b"), 409, "id_conflict")
    expect("seen, not own, other body", post(client, str(ids["seen"]), "b"), 409, "id_conflict")
    # The reference answers: a malformed id, and a well-formed one nobody may use.
    malformed = post(client, MALFORMED, "a")
    reserved = post(client, NIL, "a")
    expect("malformed", malformed, 400, "id_unusable")
    if not _same_bytes(malformed, reserved):
        wrong.append(f"reserved differs from malformed: {reserved.content!r}")
    for unseen in ids["unseen"]:
        for variant in ("a", "b"):
            answer = post(client, str(unseen), variant)
            if not _same_bytes(answer, malformed):
                wrong.append(
                    f"unseen {unseen} ({variant}): {answer.status_code} {answer.content!r}"
                )
    assert wrong == [], "\n".join([kind, *wrong])


# --- bulletins ----------------------------------------------------------------------------
#
# A bulletin is seen by the planners of its issuing unit and of the units above (drafts
# included), by the people it is addressed to once issued, and by auditors; by nobody else,
# who gets the 404 of a bulletin that does not exist, whatever they ask of it.

BULLETIN_SEERS = {
    "city_issued": {"planner_city", "leader_city", "leader_county", "auditor"},
    "city_unissued": {"planner_city", "auditor"},
    "county_issued": {"planner_city", "planner_county", "leader_county", "auditor"},
}


def bulletin_world():
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from audits.models import Bulletin, BulletinRecipient

    w = build(published=True)
    units, users = w["units"], w["users"]
    name = default_storage.save("bulletins/matrix.pdf", ContentFile(b"%PDF-1.7 matrix"))

    def bulletin(issuer, to, issued=True):
        unit = units["county_a" if issuer == "county" else issuer]
        row = Bulletin.objects.create(
            issuer=unit,
            unit=unit,
            period_start=date.today() - timedelta(days=30),
            period_end=date.today() - timedelta(days=1),
            title=f"{issuer}通报",
            status="draft" if issued else "compiling",
            requested_by=users[f"planner_{issuer}"],
            pdf=name,
            sha256="0" * 64,
        )
        for user in to:
            BulletinRecipient.objects.create(
                bulletin=row, user=users[user], kind="main", source="role", label=user
            )
        if issued:
            Bulletin.objects.filter(pk=row.pk).update(
                status="issued", year=date.today().year, number=1, issued_on=date.today()
            )
        return row

    w["bulletins"] = {
        "city_issued": bulletin("city", ["leader_city", "leader_county"]),
        "city_unissued": bulletin("city", ["leader_city"], issued=False),
        "county_issued": bulletin("county", ["leader_county"]),
    }
    return w


@pytest.mark.parametrize("who", sorted(USERS))
def test_bulletins_matrix(who):
    w = bulletin_world()
    client = bearer(w["users"][who])
    listed = {r["id"] for r in client.get("/api/v1/bulletins").json()["results"]}
    missing = client.get(f"/api/v1/bulletins/{uuid.uuid4()}")
    wrong = []
    for name, bulletin in w["bulletins"].items():
        may = who in BULLETIN_SEERS[name]
        url = f"/api/v1/bulletins/{bulletin.pk}"
        answers = {
            "detail": client.get(url),
            "pdf": client.get(f"{url}/pdf"),
            "acknowledge": client.post(f"{url}/acknowledge"),
            "issue": client.post(f"{url}/issue"),
        }
        if (str(bulletin.pk) in listed) != may:
            wrong.append(f"{name} list: {'hidden' if may else 'leaked'}")
        for what, answer in answers.items():
            if answer.status_code >= 500:
                wrong.append(f"{name} {what}: {answer.status_code}")
            elif may and answer.status_code == 404:
                wrong.append(f"{name} {what}: hidden")
            elif not may and (answer.status_code, answer.content) != (404, missing.content):
                wrong.append(f"{name} {what}: leaked ({answer.status_code})")
    figures = client.get(f"/api/v1/stats?unit={w['units']['city'].pk}").json()
    seen_issued = sum(who in BULLETIN_SEERS[n] for n in ("city_issued", "county_issued"))
    if figures["bulletins_issued"] != seen_issued:
        wrong.append(f"stats: {figures['bulletins_issued']} issued, may see {seen_issued}")
    assert wrong == [], who
