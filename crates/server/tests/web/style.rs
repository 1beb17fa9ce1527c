//! The staff scorecard pages: `/style` lists the scorecards the viewer may
//! see (an agent their own, a manager their team's, an admin everyone's),
//! `/style/{id}` shows one person's figures with their definitions, and
//! says "too few cases" rather than rank anyone on a handful; the radar and
//! the trend sparklines are inline SVG with a mark per axis and period (also
//! SVG files, with the same visibility).

use rapport_domain::Role;
use rapport_domain::records::User;
use rapport_insights::scorecards::Figure;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::common::{
    Backend, PASSWORD, TestApp, WebClient, create_activity, create_person, create_task, rfc3339, unescape,
};

backend_tests!(scorecards_are_shown_to_whom_they_may_be, a_scorecard_page_explains_its_figures_and_draws_charts);

/// The link to a scorecard on `/style`: present exactly when it is listed.
fn listed(html: &str, user: &User) -> bool {
    html.contains(&format!("href=\"/style/{}?", user.id))
}

/// A team of a manager and two agents, an agent in another team; the first
/// agent has two tasks due (one done late, one dropped) and a few touches.
struct Staff {
    admin: WebClient,
    manager: (User, WebClient),
    agent: (User, WebClient),
    colleague: User,
    outsider: User,
}

async fn staff(app: &TestApp) -> Staff {
    let team = app.create_team("Support").await;
    let other = app.create_team("Sales").await;
    let manager = app.web_user(Role::Manager, Some(team.id)).await;
    let (agent, agent_api) = app.create_user(Role::Agent, Some(team.id)).await;
    let agent_web = app.web_sign_in(agent.fields.email.as_str(), PASSWORD).await;
    let (colleague, _) = app.web_user(Role::Agent, Some(team.id)).await;
    let (outsider, _) = app.web_user(Role::Agent, Some(other.id)).await;

    let now = OffsetDateTime::now_utc();
    let customer = create_person(&agent_api, "Carla").await;
    create_task(
        &agent_api,
        json!({ "title": "Send the quote", "due_at": rfc3339(now - Duration::days(3)), "done": true, "person_id": customer.id }),
    )
    .await;
    create_task(
        &agent_api,
        json!({ "title": "Call back", "due_at": rfc3339(now - Duration::days(2)), "person_id": customer.id }),
    )
    .await;
    for (days, kind, direction) in [(5, "email", "inbound"), (4, "call", "outbound"), (1, "meeting", "outbound")] {
        create_activity(
            &agent_api,
            json!({ "kind": kind, "direction": direction, "occurred_at": rfc3339(now - Duration::days(days)),
                    "subject": format!("{kind} with Carla"), "person_id": customer.id }),
        )
        .await;
    }
    Staff { admin: app.web_admin().await, manager, agent: (agent, agent_web), colleague, outsider }
}

async fn scorecards_are_shown_to_whom_they_may_be(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Staff { admin, manager: (manager, manager_web), agent: (agent, agent_web), colleague, outsider } =
        staff(&app).await;

    let page = admin.get("/style").await.want(200);
    assert!(page.text.contains("href=\"/style\" aria-current=\"page\">Style</a>"), "the nav entry");
    assert!(page.text.contains("50 is the team median"), "what the scores are");
    for user in [&app.admin_user, &manager, &agent, &colleague, &outsider] {
        assert!(listed(&page.text, user), "the admin sees {}", user.fields.name);
    }
    assert!(page.text.contains("too few cases"), "no one has enough cases yet");
    assert!(page.text.contains("name=\"team_id\""), "admins choose a team");
    // One team only.
    let sales = page.text.split("<option value=\"").skip(1).find(|o| o.contains(">Sales<")).expect("the Sales team");
    let sales_id = &sales[..sales.find('"').unwrap()];
    let page = admin.get(&format!("/style?team_id={sales_id}")).await.want(200);
    assert!(listed(&page.text, &outsider) && !listed(&page.text, &agent), "the Sales team only");

    // An agent sees their own scorecard only, and no one else's page or chart.
    let page = agent_web.get("/style").await.want(200);
    assert!(listed(&page.text, &agent));
    for user in [&app.admin_user, &manager, &colleague, &outsider] {
        assert!(!listed(&page.text, user), "an agent does not see {}", user.fields.name);
    }
    assert!(!page.text.contains("name=\"team_id\""), "agents choose no team");
    agent_web.get(&format!("/style/{}", agent.id)).await.want(200);
    agent_web.get(&format!("/style/{}", colleague.id)).await.want(404);
    agent_web.get(&format!("/style/charts/{}/radar.svg", colleague.id)).await.want(404);
    agent_web.get(&format!("/style/charts/{}/trend/tasks_late.svg", colleague.id)).await.want(404);

    // A manager sees their team.
    let page = manager_web.get("/style").await.want(200);
    for user in [&manager, &agent, &colleague] {
        assert!(listed(&page.text, user), "the manager sees {}", user.fields.name);
    }
    for user in [&app.admin_user, &outsider] {
        assert!(!listed(&page.text, user), "the manager does not see {}", user.fields.name);
    }
    manager_web.get(&format!("/style/{}", colleague.id)).await.want(200);
    manager_web.get(&format!("/style/{}", outsider.id)).await.want(404);

    // Unknown and malformed ids are not found.
    admin.get(&format!("/style/{}", crate::common::unknown_id())).await.want(404);
    admin.get("/style/not-a-user").await.want(404);
}

async fn a_scorecard_page_explains_its_figures_and_draws_charts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Staff { admin, agent: (agent, agent_web), .. } = staff(&app).await;

    let page = agent_web.get(&format!("/style/{}", agent.id)).await.want(200);
    let text = unescape(&page.text);
    for figure in Figure::ALL {
        assert!(text.contains(figure.label()), "the figure {figure:?}");
    }
    assert!(text.contains(Figure::TasksDropped.definition()), "its definition");
    assert!(page.text.contains("<summary>How is this counted?"), "one click away");
    assert!(text.contains("Figures as of"), "when they were computed, as they are kept");
    // Two tasks fell due: counted, but too few to rank.
    let late = &page.text[page.text.find("id=\"figure-tasks_late\"").expect("the late tasks row")..];
    let late = &late[..late.find("</tr>").unwrap()];
    assert!(late.contains("50 %"), "one of two late: {late}");
    assert!(late.contains("too few cases (2)"), "{late}");
    assert!(late.contains("<svg class=\"chart-svg\""), "its sparkline, inline: {late}");
    assert!(late.contains("by period, oldest first: —, —, —, 50 % (this period)"), "the trend in words: {late}");
    // A mark per period: its days and value, leading to that period's scorecard at the row.
    let marks: Vec<(String, String)> = unescape(late)
        .split("<a class=\"chart-mark\" href=\"")
        .skip(1)
        .map(|m| {
            (
                m[..m.find('"').unwrap()].to_owned(),
                m[m.find("<title>").unwrap() + 7..m.find("</title>").unwrap()].to_owned(),
            )
        })
        .collect();
    assert_eq!(marks.len(), 4, "{marks:?}");
    let (href, title) = &marks[3];
    assert!(title.starts_with("Tasks done late, ") && title.ends_with(" (this period): 50 %"), "{title}");
    assert!(href.starts_with(&format!("/style/{}?from=", agent.id)) && href.ends_with("#figure-tasks_late"), "{href}");
    assert!(marks[0].1.ends_with(": no value"), "{marks:?}");
    // The earliest period's mark leads to that period's page, whose row says the same.
    let earlier = agent_web.get(&marks[0].0[..marks[0].0.find('#').unwrap()]).await.want(200);
    let row = &earlier.text[earlier.text.find("id=\"figure-tasks_late\"").unwrap()..];
    assert!(row[..row.find("</tr>").unwrap()].contains("<td class=\"num\">—</td>"), "no value then");
    // The radar: inline, described, each dimension's name leading to its figures.
    assert!(page.text.contains("<div class=\"chart-scroll\" id=\"style-radar\" role=\"region\""), "the radar");
    assert!(text.contains("Responsiveness too few cases"), "the radar's description");
    assert!(text.contains("Reading the radar."), "the radar in plain words");
    let radar_link = format!("/style/{}?from=", agent.id);
    assert!(text.contains(&format!("<a class=\"chart-mark\" href=\"{radar_link}")), "the radar's marks");
    assert!(text.contains("#style-follow_through-heading\" aria-label=\"Follow-through: "), "an axis's mark");
    assert!(!page.text.contains("<img src=\"/style/charts"), "no chart is an image");
    let radar = format!("<a href=\"/style/charts/{}/radar.svg?from=", agent.id);
    assert!(page.text.contains(&radar), "the radar's file");

    // The charts, for the page's period.
    let query = {
        let start = page.text.find(&radar).unwrap() + radar.len() - "from=".len();
        let rest = &page.text[start..];
        unescape(&rest[..rest.find('"').unwrap()])
    };
    for chart in ["radar.svg", "trend/tasks_late.svg", "trend/first_response_hours.svg"] {
        let resp = admin.get(&format!("/style/charts/{}/{chart}?{query}", agent.id)).await.want(200);
        assert_eq!(resp.header("content-type").as_deref(), Some("image/svg+xml"), "{chart}");
        assert_eq!(resp.header("cache-control").as_deref(), Some("private, no-cache"));
        assert!(resp.text.starts_with("<svg"), "{chart}: {}", resp.text);
    }
    let radar_svg = agent_web.get(&format!("/style/charts/{}/radar.svg", agent.id)).await.want(200);
    assert!(radar_svg.text.contains("Follow-through") && radar_svg.text.contains("team median"));
    admin.get(&format!("/style/charts/{}/trend/bogus.svg", agent.id)).await.want(404);
    admin.get(&format!("/style/charts/{}/trend/tasks_late", agent.id)).await.want(404);

    // Bad days are a 400 page.
    for path in [
        "/style?from=yesterday".to_owned(),
        "/style?from=2025-03-01&to=2025-02-01".to_owned(),
        "/style?from=2020-01-01&to=2025-01-01".to_owned(),
        format!("/style/{}?to=31.12.2025", agent.id),
        format!("/style/charts/{}/radar.svg?from=nope", agent.id),
        "/style?team_id=sales".to_owned(),
    ] {
        let resp = admin.get(&path).await.want(400);
        assert!(resp.text.contains("That did not work"), "{path}: {}", resp.text);
    }
    // A chosen period shows its days back in the form.
    let page = admin.get(&format!("/style/{}?from=2025-01-01&to=2025-01-31", agent.id)).await.want(200);
    assert!(page.text.contains("value=\"2025-01-01\"") && page.text.contains("value=\"2025-01-31\""));
    assert!(unescape(&page.text).contains("radar.svg?from=2025-01-01&to=2025-01-31"), "the charts take the period");
}
