-- The simulated source systems' own storage, in the `shopflow_ops` database.
--   ops         the order system (what dlt's sql_database source reads)
--   storefront  the storefront service's catalogue and partner sales (served by the HTTP API)
--   sim         the simulator's own clock and settings (read by nobody else)
-- All timestamps are business time (the simulated clock), in UTC.

create schema if not exists sim;
create schema if not exists storefront;
create schema if not exists ops;

create table if not exists sim.clock (
    singleton boolean primary key default true check (singleton),
    business_time timestamptz not null,
    seed integer not null,
    scale numeric(10, 3) not null,
    ticks integer not null default 0
);

-- The last id handed out per entity (and per marketplace partner), so an erased customer's
-- id is never given to a new one.
create table if not exists sim.id_sequences (
    entity text primary key,
    last_id bigint not null check (last_id >= 0)
);

-- One row per build (tick 0) or tick: the business-time window it wrote; the landing files of
-- the latest window can be written again (with or without faults) from it.
create table if not exists sim.tick_log (
    tick integer primary key check (tick >= 0),
    window_start timestamptz not null,
    window_end timestamptz not null,
    check (window_end > window_start)
);

create table if not exists storefront.products (
    product_id bigint primary key,
    sku text not null unique,
    title text not null,
    brand text not null,
    category text not null,
    price numeric(12, 2) not null check (price > 0),
    currency char(3) not null default 'USD',
    stock integer not null check (stock >= 0),
    is_deleted boolean not null default false,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
-- the API's listing order: its pages are walked in this index alone
create index if not exists products_updated_at_id_idx
    on storefront.products (updated_at, product_id);

create table if not exists storefront.product_tags (
    product_id bigint not null references storefront.products (product_id),
    tag text not null,
    primary key (product_id, tag)
);

create table if not exists storefront.product_images (
    product_id bigint not null references storefront.products (product_id),
    position integer not null,
    url text not null,
    width integer not null check (width > 0),
    height integer not null check (height > 0),
    primary key (product_id, position)
);

create table if not exists storefront.product_reviews (
    review_id bigint primary key,
    product_id bigint not null references storefront.products (product_id),
    rating integer not null check (rating between 1 and 5),
    comment text not null,
    reviewer_name text not null,
    reviewer_email text not null,
    reviewed_at timestamptz not null
);
-- a page's reviews are fetched by the ids of its products
create index if not exists product_reviews_product_id_idx
    on storefront.product_reviews (product_id);

create table if not exists storefront.marketplace_sales (
    partner_order_id text primary key,
    partner_name text not null,
    sku text not null references storefront.products (sku),
    quantity integer not null check (quantity > 0),
    gross_amount numeric(12, 2) not null check (gross_amount >= 0),
    currency char(3) not null,
    sold_at timestamptz not null,
    updated_at timestamptz not null
);
create index if not exists marketplace_sales_sold_at_idx on storefront.marketplace_sales (sold_at);

create table if not exists ops.customers (
    customer_id bigint primary key,
    first_name text not null,
    last_name text not null,
    email text not null,
    phone text,
    country_code char(2) not null,
    city text not null,
    address text not null,
    registered_at timestamptz not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index if not exists customers_updated_at_idx on ops.customers (updated_at);

create table if not exists ops.orders (
    order_id bigint primary key,
    customer_id bigint references ops.customers (customer_id) on delete set null,
    ordered_at timestamptz not null,
    status text not null
        check (status in ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    payment_method text not null
        check (payment_method in ('card', 'paypal', 'bank_transfer', 'gift_card', 'cash_on_delivery')),
    currency char(3) not null check (currency in ('USD', 'EUR', 'GBP', 'CAD', 'AUD')),
    channel text not null check (channel in ('web', 'app', 'store')),
    delivery_date date not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    check (delivery_date >= ordered_at::date)
);
create index if not exists orders_updated_at_idx on ops.orders (updated_at);
create index if not exists orders_customer_id_idx on ops.orders (customer_id);

create table if not exists ops.order_items (
    order_item_id bigint primary key,
    order_id bigint not null references ops.orders (order_id),
    line_number integer not null check (line_number > 0),
    product_id bigint not null,
    sku text not null,
    quantity integer not null check (quantity > 0),
    unit_price numeric(12, 2) not null check (unit_price > 0),
    discount numeric(4, 3) not null default 0 check (discount >= 0 and discount <= 0.5),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (order_id, line_number)
);
create index if not exists order_items_updated_at_idx on ops.order_items (updated_at);

create table if not exists ops.payments (
    payment_id bigint primary key,
    order_id bigint not null references ops.orders (order_id),
    method text not null,
    status text not null check (status in ('authorized', 'captured', 'refunded', 'failed')),
    amount numeric(12, 2) not null check (amount >= 0),
    currency char(3) not null,
    paid_at timestamptz not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index if not exists payments_updated_at_idx on ops.payments (updated_at);

create table if not exists ops.deliveries (
    delivery_id bigint primary key,
    order_id bigint not null unique references ops.orders (order_id),
    carrier text not null check (carrier in ('DHL', 'UPS', 'FedEx', 'USPS', 'Royal Mail', 'La Poste')),
    status text not null check (status in ('preparing', 'in_transit', 'delivered', 'returned')),
    shipped_at timestamptz,
    delivered_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    check (delivered_at is null or shipped_at is not null and delivered_at >= shipped_at)
);
create index if not exists deliveries_updated_at_idx on ops.deliveries (updated_at);
