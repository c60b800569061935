//! 后台任务: the jobs page and its metrics.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use yinling_app::testing::TestCity;

use crate::support::{Client, setup};

/// 后台任务: the jobs page and 立即运行 are the city administrator's; the runner's figures
/// are on `/metrics`.
mod jobs_page {
    use super::*;
    use yinling_app::jobs::Runner;
    use yinling_store::jobs as store_jobs;

    #[tokio::test]
    async fn only_a_city_administrator_sees_the_jobs_and_runs_one_now() {
        let (city, app) = setup().await;
        let runner = Runner::new(city.app.clone());
        runner.run_due().await.unwrap();
        let mut admin = Client::login(&app, "cityadmin").await;
        let home = admin.get("/").await.text();
        assert!(home.contains("href=\"/jobs\""), "{home}");
        let page = admin.get("/jobs").await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        for label in [
            "超时订单上报",
            "清理未使用照片",
            "奖励入账",
            "积分到期",
            "会话清理",
        ] {
            assert!(html.contains(label), "{label}: {html}");
        }
        assert!(
            html.contains("action=\"/jobs/sweep_sessions/run\""),
            "{html}"
        );
        assert!(html.contains("上次运行"), "{html}");

        for who in ["countyadmin", "secretary", "workera", "resident"] {
            let mut c = Client::login(&app, who).await;
            assert!(!c.get("/").await.text().contains("href=\"/jobs\""), "{who}");
            assert_eq!(c.get("/jobs").await.status, StatusCode::FORBIDDEN, "{who}");
            let r = c.post_form("/jobs/sweep_sessions/run", &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
        }
        let due = |city: &TestCity| {
            let store = city.app.store().clone();
            async move {
                store_jobs::get(&mut store.read(), "sweep_sessions")
                    .await
                    .unwrap()
                    .unwrap()
                    .due_at
            }
        };
        let later = due(&city).await;
        assert!(later > city.app.now());

        // Without the form's token nothing changes.
        let r = admin
            .send(
                Request::post("/jobs/sweep_sessions/run")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("csrf_token=forged"))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(due(&city).await, later);
        let r = admin.post_form("/jobs/no_such_job/run", &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        let r = admin.post_form("/jobs/sweep_sessions/run", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/jobs?ok=queued");
        assert_eq!(due(&city).await, city.app.now());
        let html = admin.get("/jobs?ok=queued").await.text();
        assert!(html.contains("已安排立即运行"), "{html}");
        assert!(html.contains("cityadmin 已要求立即运行"), "{html}");
        let ran = runner.run_due().await.unwrap();
        assert_eq!(
            ran.iter().map(|r| r.name).collect::<Vec<_>>(),
            ["sweep_sessions"]
        );
        let audit = admin.get("/audit?action=job.").await.text();
        assert!(audit.contains("立即运行后台任务"), "{audit}");
    }

    #[tokio::test]
    async fn each_jobs_runs_failures_items_and_duration_are_on_metrics_by_name() {
        let (city, app) = setup().await;
        Runner::new(city.app.clone()).run_due().await.unwrap();
        let mut c = Client::new(app);
        let text = c.get("/metrics").await.text();
        for line in [
            "yinling_job_runs_total{job=\"claim_awards\",outcome=\"ok\"}",
            "yinling_job_failures_total{job=\"purge_photos\"} 0",
            "yinling_job_items_total{job=\"escalate_orders\",result=\"done\"}",
            "yinling_job_items_total{job=\"expire_points\",result=\"set_aside\"}",
            "yinling_job_last_duration_seconds{job=\"sweep_sessions\"}",
            "yinling_job_failures_in_a_row{job=\"purge_photos\"} 0",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
    }
}
