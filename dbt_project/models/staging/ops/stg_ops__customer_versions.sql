{#- The customers' SCD2 versions, built from the change log ingestion appends to
    (raw_ops.customers_changes; docs/scale-out.md, "SCD2 on both engines"), so a customer who
    changes twice between two runs keeps both versions (a snapshot only sees the state at run
    time). Same SQL on both engines: the lake carries the log, already erased by this model's
    pre-hook on Postgres (doc block `erasure`).
    Change order per customer: the commit (or read) time, then the log position, then the
    order within the transaction; the change id only breaks ties that cannot happen in a
    well-formed log, so that the result never depends on the engine's row order. -#}
with

customer_changes as (

    select
        {{ customer_raw_columns() }},
        created_at,
        updated_at,
        _cdc_op,
        coalesce(_cdc_lsn, 0) as change_lsn,
        _change_seq,
        _changed_at,
        _change_id,
        _dlt_load_id
    from {{ source("ops", "customers_changes") }}

),

last_changes as (

    {{ deduplicate_to_latest(
        "customer_changes",
        "customer_id",
        "_changed_at desc, change_lsn desc, _change_seq desc, _change_id desc",
    ) }}

),

customer_states as (

    select customer_changes.*
    from customer_changes
    where
        customer_changes._cdc_op <> 'delete'
        and customer_changes.updated_at is not null

),

versions as (

    {#- a version per distinct updated_at, like the timestamp snapshot: re-reads of one
        version (the cursor's `seen` rows, a resync's copy) collapse into its last state #}
    {{ deduplicate_to_latest(
        "customer_states",
        "customer_id, updated_at",
        "_changed_at desc, change_lsn desc, _change_seq desc, _change_id desc",
    ) }}

),

validity as (

    select
        versions.*,
        versions.updated_at as valid_from,
        lead(versions.updated_at) over (
            partition by versions.customer_id
            order by versions.updated_at
        ) as next_valid_from
    from versions

),

final as (

    select
        validity.customer_id,
        validity.first_name,
        validity.last_name,
        validity.email,
        validity.phone,
        validity.country_code,
        validity.city,
        validity.address,
        validity.registered_at,
        validity.created_at,
        validity.updated_at,
        validity.valid_from,
        case
            when validity.next_valid_from is not null then validity.next_valid_from
            {#- a deleted customer's last version ends when the delete was committed (never
                before it began: the log's clock and the business clock differ) #}
            when last_changes._cdc_op = 'delete'
                then greatest(last_changes._changed_at, validity.valid_from)
        end as valid_to,
        {#- a version a delete closed changed when the delete loaded: incremental facts
            re-key from versions loaded since their last build (versions_changed_since) #}
        case
            when validity.next_valid_from is null and last_changes._cdc_op = 'delete'
                then last_changes._dlt_load_id
            else validity._dlt_load_id
        end as _dlt_load_id
    from validity
    inner join last_changes
        on validity.customer_id = last_changes.customer_id

)

select * from final
