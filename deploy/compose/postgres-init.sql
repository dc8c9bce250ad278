-- One database per service on one PostgreSQL server (ARCHITECTURE.md: a service owns its
-- database and never reads another's tables). The postgres image runs this once, when the
-- data volume is empty; tables come from each service's migrations, not from here.
-- A new service with a database adds one line, named relacja_<service>.
--
-- Compose connects as the postgres superuser for brevity. A shared or production server
-- should give every service its own role that owns only its database, e.g.
--   CREATE ROLE relacja_customers LOGIN PASSWORD '...';
--   ALTER DATABASE relacja_customers OWNER TO relacja_customers;

CREATE DATABASE relacja_customers;
CREATE DATABASE relacja_segmentation;
CREATE DATABASE relacja_orders;
CREATE DATABASE relacja_tickets;
CREATE DATABASE relacja_churn;
CREATE DATABASE relacja_sharing;
CREATE DATABASE relacja_loyalty;
CREATE DATABASE relacja_recommendations;
CREATE DATABASE relacja_engagement;
CREATE DATABASE relacja_sales;
