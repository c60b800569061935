//! What every capability shares: attempt limits counted in the database, and stored text
//! through one checker.

use yinling_app::testing::assert_too_many;
use yinling_app::testing::key;
use yinling_app::testing::person_key;
use yinling_app::{
    kernel::clock::MINUTE,
    people::TagDefInput,
    people::{RoleInput, TagInput},
    testing::{TestCity, gift, need, order, role, valid_id},
};
use yinling_domain::person::{PersonRoleKind, RetireKind, RoleDetails};

// ---------------------------------------------------------------------------------------
// Throttles: counted attempts shared by every process, a refused attempt still counts.

#[tokio::test]
async fn a_throttle_counts_in_its_window_refuses_beyond_the_limit_and_starts_afresh() {
    use yinling_app::kernel::throttle::Limit;
    let city = TestCity::new().await;
    let limit = Limit {
        bucket: "test_bucket",
        max: 3,
        window_minutes: 10,
    };
    for n in 1..=3 {
        let c = city
            .app
            .throttle()
            .hit(&limit, "acct:7")
            .await
            .expect("within");
        assert_eq!((c.hits, c.left), (n, 3 - n));
    }
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .unwrap_err();
    let err = city.app.throttle().hit(&limit, "acct:7").await.unwrap_err();
    assert_too_many(&err);
    assert_eq!(err.code(), "too_many_attempts");
    assert!(err.to_string().contains("尝试次数过多"), "{err}");
    assert!(
        city.app.throttle().until(&limit, "acct:7").await.unwrap()
            == Some(yinling_app::testing::START + 10 * MINUTE)
    );
    // Another subject, and the same subject in another bucket, count apart.
    city.app
        .throttle()
        .hit(&limit, "acct:8")
        .await
        .expect("other subject");
    let other = Limit {
        bucket: "other_bucket",
        ..limit
    };
    city.app
        .throttle()
        .hit(&other, "acct:7")
        .await
        .expect("other bucket");
    // A new window starts once the old one has run out.
    city.clock.advance(10 * MINUTE);
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .expect("lifted");
    let c = city
        .app
        .throttle()
        .hit(&limit, "acct:7")
        .await
        .expect("new window");
    assert_eq!(c.hits, 1);
    // Clearing forgets the count.
    for _ in 0..3 {
        city.app.throttle().hit(&limit, "acct:7").await.ok();
    }
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .unwrap_err();
    // (as lifting a redemption lock does, inside its own transaction)
    let mut tx = city.app.store().begin().await.unwrap();
    yinling_store::accounts::throttle::clear(&mut tx.exec(), limit.bucket, "acct:7")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .expect("cleared");
    // Old windows are purged after a day.
    city.clock.advance(24 * 60 * MINUTE + MINUTE);
    assert_eq!(city.app.throttle().purge().await.unwrap(), 2);
    assert_eq!(city.count("throttles").await, 0);
}

#[tokio::test]
async fn simultaneous_hits_are_all_counted() {
    use yinling_app::kernel::throttle::Limit;
    let city = TestCity::new().await;
    let limit = Limit {
        bucket: "race",
        max: 1000,
        window_minutes: 10,
    };
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let app = city.app.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    app.throttle().hit(&limit, "ip:10.0.0.1").await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let c = city
        .app
        .throttle()
        .hit(&limit, "ip:10.0.0.1")
        .await
        .unwrap();
    assert_eq!(c.hits, 81);
}

// =======================================================================================
// Issue 9, items 7 and 8: text enters through one checker. Free text refuses phone and ID
// numbers (the rule mediation used) and invisible control or direction characters; names,
// titles and labels refuse the invisible characters. Field by field.
// =======================================================================================

mod text_fields {
    use std::future::Future;

    use yinling_app::{AppError, AppResult, testing::TestCity};

    /// Free text that must be refused, each with the code it is refused with.
    pub const BAD_FREE: [(&str, &str); 4] = [
        ("张三电话13812345678，请联系", "personal_number_in_text"),
        ("身份证370830194403151238核实", "personal_number_in_text"),
        ("说明\u{202E}情况如下，请核实", "invisible_character"),
        ("说明\u{0}情况如下，请核实", "invisible_character"),
    ];

    /// Refused: each of `bad` with its code, writing nothing; then `good` is taken.
    pub async fn check_field<T, F, Fut>(
        city: &TestCity,
        what: &str,
        bad: &[(&str, &str)],
        good: &str,
        mut f: F,
    ) where
        T: std::fmt::Debug,
        F: FnMut(String) -> Fut,
        Fut: Future<Output = AppResult<T>>,
    {
        let audit = city.count("audit_events").await;
        for (text, code) in bad {
            match f((*text).to_owned()).await {
                Err(AppError::Invalid {
                    code: c, message, ..
                }) => {
                    assert_eq!(c, *code, "{what}: {text:?} → {message}");
                    assert!(!message.is_empty());
                }
                other => panic!("{what} took {text:?}: {other:?}"),
            }
        }
        assert_eq!(
            city.count("audit_events").await,
            audit,
            "{what}: a refusal wrote something"
        );
        if let Err(e) = f(good.to_owned()).await {
            panic!("{what} refused ordinary text {good:?}: {e:?}");
        }
    }
}

#[tokio::test]
async fn every_free_text_field_refuses_numbers_and_invisible_characters() {
    use text_fields::*;
    use yinling_app::{
        ledger::AdjustmentInput,
        mediation::{CaseInput, PartyInput},
        needs::{FollowUpInput, NeedInput},
        orders::DispatchInput,
        orders::{OrderInput, OrderStep},
        org::{PlaceInput, PlaceKind},
        services::ServiceItemInput,
        time_bank::GiftInput,
    };
    use yinling_domain::{
        ledger::Unit,
        mediation::{DisputeCategory, PartySide},
        org::OrgKind,
        service::OrderAction,
    };
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    let c = &city;
    let system = &city.system;
    let admin = &city.caller("countyadmin").await;
    let resident = &city.caller("resident").await;
    let worker = &city.caller("workera").await;
    let vola = &city.caller("vola").await;
    let good = "3号楼2单元501室，午饭少盐，2026-07-01送到";
    let order = |description: Option<String>, address: Option<String>| OrderInput {
        description,
        address,
        ..order(s.item.id)
    };
    let step = |note: String, stars: Option<i64>| OrderStep {
        provider_id: None,
        note: Some(note),
        stars,
        photo_key: None,
    };
    let place = || async {
        c.app
            .orders()
            .place(resident, order(None, None))
            .await
            .unwrap()
            .order
            .id
    };

    // Orders: description, address, dispatch note, cancel reason, completion note, rating.
    check_field(c, "需求说明", &BAD_FREE, good, |t| async move {
        c.app.orders().place(resident, order(Some(t), None)).await
    })
    .await;
    check_field(c, "服务地址", &BAD_FREE, good, |t| async move {
        c.app.orders().place(resident, order(None, Some(t))).await
    })
    .await;
    let to_dispatch = place().await;
    check_field(c, "派单备注", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .dispatch(
                worker,
                key(county, to_dispatch),
                DispatchInput {
                    provider_id: None,
                    note: Some(t),
                },
            )
            .await
    })
    .await;
    let to_cancel = place().await;
    check_field(c, "取消原因", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .step(
                resident,
                key(county, to_cancel),
                OrderAction::Cancel,
                step(t, None),
            )
            .await
    })
    .await;
    for action in [OrderAction::Accept, OrderAction::CheckIn] {
        c.app
            .orders()
            .step(
                vola,
                key(county, to_dispatch),
                action,
                step(String::new(), None),
            )
            .await
            .unwrap();
    }
    check_field(c, "完成情况", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .step(
                vola,
                key(county, to_dispatch),
                OrderAction::Complete,
                step(t, None),
            )
            .await
    })
    .await;
    check_field(c, "评价", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .step(
                resident,
                key(county, to_dispatch),
                OrderAction::Rate,
                step(t, Some(5)),
            )
            .await
    })
    .await;

    // Needs: description and follow-up.
    let need = |description: String| NeedInput {
        description,
        ..need(city.people_a[2])
    };
    check_field(c, "需求内容", &BAD_FREE, good, |t| async move {
        c.app.needs().record(worker, need(t)).await
    })
    .await;
    let (nc, nid) = {
        let k = c
            .app
            .needs()
            .record(worker, need("需要助餐".into()))
            .await
            .unwrap();
        (k.county(), k.id())
    };
    check_field(c, "跟进情况", &BAD_FREE, good, |t| async move {
        c.app
            .needs()
            .follow_up(
                worker,
                key(nc, nid),
                FollowUpInput {
                    note: t,
                    status: None,
                    version: None,
                },
            )
            .await
    })
    .await;

    // People: note and address; a tag's note.
    let mut n = 0;
    let mut next_id = || {
        n += 1;
        valid_id(&format!("37083019500101{n:03}"))
    };
    let (id1, id2) = (next_id(), next_id());
    check_field(c, "人员备注", &BAD_FREE, good, |t| {
        let mut input = c.person_input(&c.grid_a, "周九", &id1, None);
        input.note = Some(t);
        async move { c.app.people().create(worker, input).await }
    })
    .await;
    check_field(
        c,
        "住址",
        &BAD_FREE[..3],
        "阳光小区3号楼2单元501室",
        |t| {
            let mut input = c.person_input(&c.grid_a, "吴十", &id2, None);
            input.address = Some(t);
            async move { c.app.people().create(worker, input).await }
        },
    )
    .await;
    let tag = c
        .app
        .people()
        .define_tag(
            system,
            TagDefInput {
                code: "dujiu".into(),
                name: "独居".into(),
                category: "居住情况".into(),
                description: String::new(),
                archived: false,
            },
        )
        .await
        .unwrap();
    check_field(c, "标签备注", &BAD_FREE, good, |t| async move {
        c.app
            .people()
            .tag(
                worker,
                person_key(c.people_a[2]),
                TagInput {
                    tag_id: tag,
                    valid_from: None,
                    valid_to: None,
                    note: Some(t),
                },
            )
            .await
    })
    .await;

    // Places and units: addresses (one line).
    check_field(
        c,
        "住所地址",
        &BAD_FREE[..3],
        "阳光小区3号楼",
        |t| async move {
            c.app
                .org()
                .create_place(
                    worker,
                    yinling_domain::ids::Key::new(county, c.grid_a.id),
                    PlaceInput {
                        kind: PlaceKind::Building,
                        parent_id: None,
                        label: "9号楼".into(),
                        address: Some(t),
                        lat: None,
                        lng: None,
                    },
                )
                .await
        },
    )
    .await;
    check_field(
        c,
        "组织地址",
        &BAD_FREE[..3],
        "东门大街88号",
        |t| async move {
            c.app
                .org()
                .create_unit(
                    system,
                    yinling_domain::ids::Key::new(county, c.branch.id),
                    yinling_app::org::NewUnitInput {
                        address: Some(t),
                        ..yinling_app::testing::unit(
                            OrgKind::GridPartyGroup,
                            "阳光小区第3网格党小组",
                        )
                    },
                )
                .await
        },
    )
    .await;

    // Service items: description.
    check_field(c, "服务说明", &BAD_FREE, good, |t| async move {
        c.app
            .services()
            .create_item(
                system,
                key(county, c.community.id),
                ServiceItemInput {
                    category: "meals".into(),
                    name: "午餐配送".into(),
                    description: Some(t),
                    skills: vec![],
                    duration_minutes: 30,
                    points: 5,
                    hours_minutes: 30,
                    sla_minutes: 60,
                    active: true,
                    version: None,
                },
            )
            .await
    })
    .await;

    // Ledger: an adjustment's memo, a reversal's, a family gift's.
    // The shop puts 张三丰 and 李四 in one household (so 李四 may give him hours); after
    // the orders, since a volunteer does not serve their own household.
    check_field(
        c,
        "调整原因",
        &BAD_FREE,
        "补记2026年7月入户走访",
        |t| async move {
            c.app
                .ledger()
                .propose_adjustment(
                    admin,
                    AdjustmentInput {
                        person: yinling_app::testing::person_key(c.people_a[2]),
                        unit: Unit::Points,
                        amount: 5,
                        memo: t,
                    },
                )
                .await
        },
    )
    .await;
    city.complete_an_order(&s).await;
    city.add_shop().await;
    city.app.ledger().claim_entitlements(100).await.unwrap();
    let transfer: i64 = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!(
            "SELECT MIN(id) FROM ledger_transfers WHERE county_code = $1",
            county
        ))
        .await
        .unwrap();
    let transfer = yinling_domain::ids::Key::from_parts(county.into(), transfer).unwrap();
    check_field(
        c,
        "冲正原因",
        &BAD_FREE,
        "重复发放，予以冲正",
        |t| async move { c.app.ledger().reverse_transfer(admin, transfer, &t).await },
    )
    .await;
    let mut k = 0;
    check_field(c, "转赠附言", &BAD_FREE, "给老伴的", |t| {
        k += 1;
        let input = GiftInput {
            memo: Some(t),
            ..gift(c.people_a[0], 10, format!("gift-test-{k:04}"))
        };
        async move { c.app.time_bank().gift(vola, input).await }
    })
    .await;

    // Mediation (which had the rule first): summary and location.
    let case = |summary: String, location: Option<String>| CaseInput {
        unit_county_code: county.into(),
        unit_id: c.grid_a.id,
        place_id: None,
        location,
        category: DisputeCategory::Neighbour,
        summary,
        intake_on: None,
        taken_by_name: None,
        parties: vec![PartyInput {
            side: PartySide::Applicant,
            name: "王某某".into(),
            person_id: None,
        }],
        mediators: Vec::new(),
    };
    check_field(c, "纠纷简要情况", &BAD_FREE, good, |t| async move {
        c.app.mediation().create(worker, case(t, None)).await
    })
    .await;
    check_field(c, "发生地点", &BAD_FREE[..3], "3号楼楼道", |t| async move {
        c.app
            .mediation()
            .create(worker, case("楼道堆放杂物引发争吵".into(), Some(t)))
            .await
    })
    .await;
}

#[tokio::test]
async fn names_titles_and_labels_refuse_invisible_characters_but_keep_their_numbers() {
    use text_fields::*;
    use yinling_app::{
        accounts::NewAccountInput,
        org::{PlaceInput, PlaceKind},
        redeem::GoodsInput,
        services::CategoryInput,
        services::ServiceItemInput,
    };
    use yinling_domain::{org::OrgKind, role::Role};
    let city = TestCity::new().await;
    let shop = city.add_shop().await;
    let county = city.county.county_code;
    let c = &city;
    let system = &city.system;
    let city_admin = &city.caller("cityadmin").await;
    let bidi: [(&str, &str); 3] = [
        ("阳光\u{202E}小区", "invisible_character"),
        ("阳光\u{200F}小区", "invisible_character"),
        ("阳光\u{FEFF}小区", "invisible_character"),
    ];
    check_field(
        c,
        "组织名称",
        &bidi,
        "阳光小区第3网格党小组",
        |t| async move {
            c.app
                .org()
                .create_unit(
                    system,
                    yinling_domain::ids::Key::new(county, c.branch.id),
                    yinling_app::testing::unit(OrgKind::GridPartyGroup, t),
                )
                .await
        },
    )
    .await;
    check_field(c, "住所名称", &bidi, "12号楼", |t| async move {
        c.app
            .org()
            .create_place(
                system,
                yinling_domain::ids::Key::new(county, c.grid_a.id),
                PlaceInput {
                    kind: PlaceKind::Building,
                    parent_id: None,
                    label: t,
                    address: None,
                    lat: None,
                    lng: None,
                },
            )
            .await
    })
    .await;
    let mut n = 0;
    check_field(c, "标签名称", &bidi, "独居2", |t| {
        n += 1;
        let input = TagDefInput {
            code: format!("t{n}"),
            name: t,
            category: "其他".into(),
            description: String::new(),
            archived: false,
        };
        async move { c.app.people().define_tag(city_admin, input).await }
    })
    .await;
    check_field(c, "类别名称", &bidi, "理发2", |t| async move {
        c.app
            .services()
            .add_category(
                system,
                CategoryInput {
                    code: "haircut".into(),
                    label: t,
                    county_code: Some(county.as_i64()),
                },
            )
            .await
    })
    .await;
    check_field(c, "服务项目名称", &bidi, "助浴1次", |t| async move {
        c.app
            .services()
            .create_item(
                system,
                key(county, c.community.id),
                ServiceItemInput {
                    category: "meals".into(),
                    name: t,
                    description: None,
                    skills: vec![],
                    duration_minutes: 30,
                    points: 5,
                    hours_minutes: 30,
                    sla_minutes: 60,
                    active: true,
                    version: None,
                },
            )
            .await
    })
    .await;
    check_field(c, "商品名称", &bidi, "大米5kg", |t| async move {
        c.app
            .redeem()
            .add_goods(
                system,
                yinling_app::testing::shop_key((shop.county_code, shop.id)),
                GoodsInput {
                    name: t,
                    price_points: 50,
                    stock: 10,
                    active: true,
                    version: None,
                },
            )
            .await
    })
    .await;
    let mut u = 0;
    check_field(c, "账号姓名", &bidi, "网格员2号", |t| {
        u += 1;
        let input = NewAccountInput {
            display_name: t,
            password: yinling_app::testing::PASSWORD.to_owned(),
            ..yinling_app::testing::account(
                format!("worker{u}x"),
                Role::GridWorker,
                (county.as_i64(), c.grid_a.id.get()),
            )
        };
        async move { c.app.accounts().create(system, input).await }
    })
    .await;
    let (pc, pid) = city.people_a[1];
    check_field(
        c,
        "原工作单位",
        &bidi,
        "汶上县第1实验小学",
        |t| async move {
            c.app
                .people()
                .add_role(
                    system,
                    person_key((pc, pid)),
                    RoleInput {
                        details: RoleDetails {
                            retire_kind: Some(RetireKind::Tuixiu),
                            former_unit: Some(t),
                            ..RoleDetails::default()
                        },
                        ..role(PersonRoleKind::RetiredCadre)
                    },
                )
                .await
        },
    )
    .await;
    check_field(c, "特长", &bidi, "理发", |t| async move {
        c.app
            .people()
            .set_skills(system, person_key((pc, pid)), vec![t])
            .await
    })
    .await;
    let id = valid_id("37083019500101555");
    check_field(c, "姓名", &bidi[..1], "孙八", |t| {
        let input = c.person_input(&c.grid_a, &t, &id, None);
        async move { c.app.people().create(system, input).await }
    })
    .await;
}
