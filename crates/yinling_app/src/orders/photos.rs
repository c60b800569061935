//! Completion photos: uploaded for an order in service, used once, purged when unused.

use super::*;

/// How long an uploaded completion photo may wait to be used before the purge job removes
/// it: a day.
pub const UNUSED_PHOTO_GRACE: i64 = 24 * 60 * MINUTE;

/// Unused photos one order may hold at once.
pub(super) const MAX_UNUSED_PHOTOS: i64 = 5;

pub(super) fn photo_unknown() -> AppError {
    AppError::invalid("invalid_photo", "photo_key", "照片须为本订单上传的照片")
}

pub(super) fn photo_used() -> AppError {
    AppError::invalid("photo_used", "photo_key", "这张照片已经用过了，请重新上传")
}

impl Orders<'_> {
    /// Stores a completion photo for an order the caller may complete now — they serve it
    /// and it is in service — and returns its key (under `orders/{county}/{id}/`) for the
    /// `complete` step. Refused, with nothing stored, otherwise; the photo is checked by
    /// its content and size (see [`crate::kernel::files::photo_key`]).
    #[tracing::instrument(name = "orders.upload_photo", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, order = %order_key))]
    pub async fn upload_photo(
        self,
        caller: &Caller,
        order_key: Key<OrderId>,
        bytes: Vec<u8>,
    ) -> AppResult<String> {
        let order = self.row(order_key).await?;
        let standing = self.standing(caller, &order).await?;
        let from = order.state;
        let actor = standing
            .actor_for(OrderAction::Complete)
            .ok_or_else(|| AppError::forbidden("只有接到这张订单的服务者可以这样做"))?;
        transition(from, OrderAction::Complete, actor)
            .map_err(|e| AppError::conflict("illegal_transition", None, e.to_string()))?;
        if !standing
            .providers
            .iter()
            .any(|p| order.provider_id == Some(p.id))
        {
            return Err(AppError::forbidden("这张订单由其他服务者负责"));
        }
        let key = crate::kernel::files::photo_key(&format!("orders/{order_key}"), &bytes)?;
        // Bounded: a provider cannot fill the disk with photos nobody will use. Counted and
        // recorded under the order's lock, so simultaneous uploads cannot pass the bound.
        // The row first: a file is never stored without a row that the purge job finds.
        let mut tx = self.app.store().begin().await?;
        store_orders::lock_order(&mut tx.exec(), order_key).await?;
        if store_orders::unattached_photo_count(&mut tx.exec(), order_key).await?
            >= MAX_UNUSED_PHOTOS
        {
            return Err(AppError::conflict(
                "too_many_photos",
                Some("photo"),
                format!("这张订单已上传{MAX_UNUSED_PHOTOS}张照片还没用，请直接完成服务"),
            ));
        }
        store_orders::insert_photo(
            &mut tx.exec(),
            &PhotoRow {
                county_code: order_key.county_code,
                photo_key: key.clone(),
                order_id: order_key.id,
                uploaded_by: caller.account_id.map(AccountId),
                uploaded_at: self.app.now(),
                attached_at: None,
            },
        )
        .await?;
        tx.commit().await?;
        if let Err(e) = self.app.files().put(&key, bytes).await {
            if let Err(e2) = store_orders::delete_unattached_photo(
                &mut self.app.store().write(),
                order_key.county_code,
                &key,
            )
            .await
            {
                tracing::warn!(error = %e2, "row of an unstored photo left for the purge job");
            }
            return Err(e);
        }
        Ok(key)
    }

    /// Removes a photo the caller uploaded for an order and did not use (the 完成服务 page
    /// stores the photo and completes in one request; when the step is then refused it
    /// keeps nothing). A photo already used, or someone else's, is left alone.
    #[tracing::instrument(name = "orders.discard_photo", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, order = %order_key))]
    pub async fn discard_photo(
        self,
        caller: &Caller,
        order_key: Key<OrderId>,
        key: &str,
    ) -> AppResult<()> {
        let county = order_key.county_code;
        let Some(row) = store_orders::photo(&mut self.app.store().read(), county, key).await?
        else {
            return Ok(());
        };
        if row.order_id != order_key.id
            || row.uploaded_by != caller.account_id.map(AccountId)
            || row.attached_at.is_some()
        {
            return Ok(());
        }
        if store_orders::delete_unattached_photo(&mut self.app.store().write(), county, key).await?
        {
            self.app.files().delete(key).await?;
        }
        Ok(())
    }

    /// Removes completion photos uploaded more than [`UNUSED_PHOTO_GRACE`] before `now` and
    /// never attached to a completion: the row (only while still unattached, so a
    /// completion attaching it at the same moment keeps it) and then the file. Run
    /// periodically by `yinling serve`; a second run finds nothing. Returns how many went.
    #[tracing::instrument(name = "orders.purge_unused_photos", skip_all, err(level = "debug"))]
    pub async fn purge_unused_photos(self, now: i64) -> AppResult<usize> {
        let due = store_orders::unattached_photos_before(
            &mut self.app.store().read(),
            now - UNUSED_PHOTO_GRACE,
            1_000,
        )
        .await?;
        let mut removed = 0;
        for row in due {
            if !store_orders::delete_unattached_photo(
                &mut self.app.store().write(),
                row.county_code,
                &row.photo_key,
            )
            .await?
            {
                continue;
            }
            if let Err(e) = self.app.files().delete(&row.photo_key).await {
                // Put the row back so the next run tries the file again.
                store_orders::insert_photo(&mut self.app.store().write(), &row).await?;
                return Err(e);
            }
            removed += 1;
        }
        Ok(removed)
    }
}
