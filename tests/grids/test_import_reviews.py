"""An import never tells a worker that an ID number is registered in another community; the street decides.

Personas: the community secretary who uploads (in scope of the import, not of the person), the street
dispatcher (decides), a viewer on the street and another community's secretary (see nothing), and an
administrator (decides anywhere).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gridcase.core import crypto
from gridcase.core.models import AuditLog
from gridcase.grids.choices import Level, Role
from gridcase.grids.imports import jobs
from gridcase.grids.models import Household, ImportReview, Resident

from .. import factories as f
from .test_import import URL, csv_bytes, id_number

REVIEWS = "/api/v1/import-reviews/"


@pytest.fixture
def elsewhere(city):
    """赵敏 is registered in the other community (和惠社区) of the same street."""
    number = id_number("19600303", 22, False)
    person = f.resident(city.other_household, "赵敏", id_number=number)
    return person, number


def row(number, room="909", name="赵敏"):
    return [name, "女", "", "13700009999", number, "1栋", "1单元", room, "", "", "户主", "外地迁入"]


def import_rows(client, city, rows):
    return client.post(URL, {"file": SimpleUploadedFile("a.csv", csv_bytes(rows)), "grid": city.community.pk},
                       format="multipart")


@pytest.mark.django_db
class TestTheUploaderLearnsNothing:
    def test_the_report_says_needs_review_only(self, city, client_for, elsewhere):
        person, number = elsewhere
        res = import_rows(client_for(city.secretary, "en"), city, [row(number)])
        assert res.status_code == 200
        report_row = res.json()["report"]["rows"][0]
        assert report_row["status"] == "refused"
        assert [r["code"] for r in report_row["reasons"]] == ["needs_review"]
        assert "params" not in report_row["reasons"][0] and "resident" not in report_row
        text = res.content.decode()
        for leak in ("registered_elsewhere", city.other_community.name, city.other_community.code, "registered",
                     str(person.pk) + ",", city.other_micro.code):
            assert leak not in text, leak
        # Nothing changed: no household 909, the person stays where they are.
        assert not Household.objects.filter(unit=city.unit, room="909").exists()
        person.refresh_from_db()
        assert person.household_id == city.other_household.pk

    def test_the_row_waits_for_the_street_once(self, city, client_for, elsewhere):
        person, number = elsewhere
        client = client_for(city.secretary)
        import_rows(client, city, [row(number)])
        import_rows(client, city, [row(number, room="910")])  # the same person again: refreshed, not duplicated
        review = ImportReview.objects.get()
        assert review.status == "pending" and review.grid == city.community and review.resident == person
        assert review.uploaded_by == city.secretary and review.row == 2 and review.name == "赵敏"
        assert review.place == "1栋 1单元 910" and review.id_number_masked == crypto.mask_id_number(number)
        assert number not in review.row_encrypted and "13700009999" not in review.row_encrypted  # encrypted
        assert review.id_number == number

    def test_a_background_job_files_its_reviews_under_the_job(self, city, elsewhere):
        _person, number = elsewhere
        job = jobs.create(city.secretary, city.community, csv_bytes([row(number)]), "a.csv", "csv", 1)
        job = jobs.process(job.pk)
        assert job.status == "done" and job.report["rows"][0]["reasons"][0]["code"] == "needs_review"
        assert ImportReview.objects.get().job_id == job.pk


@pytest.mark.django_db
class TestTheStreetDecides:
    @pytest.fixture
    def review(self, city, client_for, elsewhere):
        import_rows(client_for(city.secretary), city, [row(elsewhere[1])])
        return ImportReview.objects.get()

    def test_who_sees_the_queue(self, city, client_for, review):
        listed = client_for(city.dispatcher).get(REVIEWS).json()["results"]
        assert [r["id"] for r in listed] == [review.pk]
        item = listed[0]
        assert item["status"] == "pending" and item["grid_code"] == city.community.code and item["row"] == 2
        assert item["name"] == "赵敏" and item["place"] == "1栋 1单元 909" and "*" in item["id_number_masked"]
        # The dispatcher holds the street, so sees where the person is registered (to settle it with them).
        assert item["resident"] == review.resident_id and item["resident_grid"]["code"] == city.other_micro.code
        assert [r["id"] for r in client_for(city.admin).get(REVIEWS).json()["results"]] == [review.pk]
        for user in (city.secretary, city.outsider, city.viewer, city.worker):
            assert client_for(user).get(REVIEWS).json()["results"] == [], user
            assert client_for(user).get(f"{REVIEWS}{review.pk}/").status_code == 404, user
        assert client_for(None).get(REVIEWS).status_code in (401, 403)
        assert client_for(city.dispatcher).get(REVIEWS, {"status": "merged"}).json()["results"] == []
        assert len(client_for(city.dispatcher).get(REVIEWS, {"within": city.community.pk}).json()["results"]) == 1
        assert client_for(city.dispatcher).get(REVIEWS, {"within": city.other_community.pk}).json()["results"] == []

    def test_merge_moves_the_registered_resident_here(self, city, client_for, review):
        person = review.resident
        res = client_for(city.dispatcher).post(f"{REVIEWS}{review.pk}/decide/", {"decision": "merge",
                                                                                  "note": "已与和惠社区核实"})
        assert res.status_code == 200, res.json()
        assert res.json()["status"] == "merged" and res.json()["decided_by"] == city.dispatcher.pk
        person.refresh_from_db()
        assert person.household.unit == city.unit and person.household.room == "909"
        assert person.grid_id == city.micro.pk and person.phone == "13700009999" and person.note == "外地迁入"
        assert Resident.objects.filter(id_number_hash=person.id_number_hash).count() == 1
        assert AuditLog.objects.filter(action="import_review_merge", actor=city.dispatcher,
                                       object_id=str(review.pk)).exists()
        again = client_for(city.dispatcher).post(f"{REVIEWS}{review.pk}/decide/", {"decision": "dismiss"})
        assert again.status_code == 409 and again.json()["code"] == "already_decided"

    def test_dismiss_changes_nothing(self, city, client_for, review):
        person = review.resident
        res = client_for(city.dispatcher).post(f"{REVIEWS}{review.pk}/decide/", {"decision": "dismiss"})
        assert res.status_code == 200 and res.json()["status"] == "dismissed"
        person.refresh_from_db()
        assert person.household_id == city.other_household.pk
        assert not Household.objects.filter(unit=city.unit, room="909").exists()

    def test_others_cannot_decide(self, city, client_for, review):
        for user in (city.secretary, city.outsider, city.viewer):
            res = client_for(user).post(f"{REVIEWS}{review.pk}/decide/", {"decision": "merge"})
            assert res.status_code == 404, user
        bad = client_for(city.dispatcher).post(f"{REVIEWS}{review.pk}/decide/", {"decision": "keep"})
        assert bad.status_code == 400 and "decision" in bad.json()["fields"]
        review.refresh_from_db()
        assert review.status == "pending"

    def test_a_person_registered_in_another_street_is_for_an_administrator(self, city, client_for):
        street2 = f.grid("ST2", "二街道", Level.STREET)
        community2 = f.grid("ST2-C", "远方社区", Level.COMMUNITY, street2)
        grid2 = f.grid("ST2-C-G01", "远方一网格", Level.GRID, community2)
        micro2 = f.grid("ST2-C-G01-M01", "远方微网格", Level.MICRO_GRID, grid2)
        far_household = f.household(f.unit(f.building(grid2), micro2))
        number = id_number("19450505", 11, False)
        far = f.resident(far_household, "孙远", id_number=number)
        import_rows(client_for(city.secretary), city, [row(number, name="孙远")])
        review = ImportReview.objects.get()
        item = client_for(city.dispatcher).get(f"{REVIEWS}{review.pk}/").json()
        assert item["resident"] is None and item["resident_grid"] is None  # outside the dispatcher's street
        res = client_for(city.dispatcher).post(f"{REVIEWS}{review.pk}/decide/", {"decision": "merge"})
        assert res.status_code == 403 and res.json()["code"] == "forbidden"
        admin_role = f.member(f.UserFactory(username="district_admin"), street2, Role.ADMIN)
        assert client_for(admin_role).get(REVIEWS).json()["results"] == []  # the review belongs to the first street
        res = client_for(city.admin).post(f"{REVIEWS}{review.pk}/decide/", {"decision": "merge"})
        assert res.status_code == 200, res.json()
        far.refresh_from_db()
        assert far.grid_id == city.micro.pk
