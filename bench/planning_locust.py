"""Locust scenario of bench/planning_bench.py: signed-in teachers at a teacher-plan deadline.

Sessions are made by the bench (one per teacher) and handed over in a JSON file; cookies are sent
by hand so that production's Secure cookies work over the loopback's plain HTTP. Each PlanTeacher
iteration takes a teacher nobody has used yet, opens the plan page and submits the plan once
(PLANNING_BENCH_OPEN=0: submits only, for the capacity measurement); each PageTeacher requests a
trivial signed-in page. PLANNING_BENCH_WAIT is the think time in seconds (0: saturate).

A submission is accepted only when it answers 302 to the satisfaction survey, where 確認送出
leads (a redirect to the sign-in page is a failure); the bench then checks the database holds exactly those plans.
"""

import itertools
import json
import os

from locust import HttpUser, between, constant, events, task

SESSIONS = json.loads(open(os.environ["PLANNING_BENCH_SESSIONS"]).read())
# Each run gets its own teachers (PLANNING_BENCH_SLICE "start:end"): a plan is submitted once, so a
# teacher used by an earlier run would be refused (403) as already submitted.
_start, _end = (
    int(x) for x in os.environ.get("PLANNING_BENCH_SLICE", f"0:{len(SESSIONS['plan'])}").split(":")
)
_plan_sessions = iter(SESSIONS["plan"][_start:_end])
_page_sessions = itertools.cycle(SESSIONS["page"])
FORM = {
    "mode": ["non_credit"],
    "time": ["saturday", "summer"],
    "place": ["online"],
    "level": ["advanced"],
    "method": ["workshop", "digital"],
    "domain": ["curriculum", "policy"],
    "hours_curriculum": "12",
    "hours_policy": "6",
    "action": "submit",
}


WAIT = float(os.environ.get("PLANNING_BENCH_WAIT", "0"))
OPEN = os.environ.get("PLANNING_BENCH_OPEN", "1") == "1"
WAIT_TIME = between(WAIT * 0.5, WAIT * 1.5) if WAIT else constant(0)
PLAN_PAGE = "/me/plan/"
SUBMITTED = "/plans/survey/teacher/"  # where 確認送出 leads
ACCEPTED: list[int] = []  # users whose 確認送出 answered 302, checked against the database afterwards


@events.quitting.add_listener
def _write_accepted(environment, **kwargs):
    with open(os.environ["PLANNING_BENCH_ACCEPTED"], "w") as f:
        json.dump(ACCEPTED, f)


def _headers(session: dict) -> dict:
    return {"Cookie": f"sessionid={session['sessionid']}; csrftoken={session['csrf']}"}


class PlanTeacher(HttpUser):
    wait_time = WAIT_TIME
    weight = 1

    @task
    def open_and_submit(self):
        try:
            session = next(_plan_sessions)
        except StopIteration:
            self.environment.runner.quit()
            return
        self.client.cookies.clear()
        headers = _headers(session)
        if OPEN:
            self.client.get(PLAN_PAGE, headers=headers, name="open plan")
        with self.client.post(
            "/me/plan/",
            data={**FORM, "csrfmiddlewaretoken": session["csrf"]},
            headers=headers,
            name="submit plan",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code == 302 and location.split("?")[0].endswith(SUBMITTED):
                ACCEPTED.append(session["user"])
            else:
                response.failure(f"status {response.status_code}")


class PageTeacher(HttpUser):
    wait_time = WAIT_TIME
    weight = 1

    @task
    def trivial_page(self):
        session = next(_page_sessions)
        self.client.cookies.clear()
        with self.client.get(
            "/me/rewards/", headers=_headers(session), name="trivial page", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
