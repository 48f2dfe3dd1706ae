-- VMs workspace: IPv4 settings per vSphere network (a static pool or DHCP)
-- and the addresses held by requests. An address is held by at most one
-- request (the primary key): it is taken in the same transaction that moves
-- the request to provisioning, and given back when the attempt fails or the
-- VM is destroyed.
CREATE TABLE vm_ip_pools (
    network  TEXT PRIMARY KEY,
    pool     TEXT NOT NULL
);

CREATE TABLE vm_ip_leases (
    network  TEXT NOT NULL,
    address  TEXT NOT NULL,
    request  TEXT NOT NULL,
    PRIMARY KEY (network, address)
);
CREATE INDEX vm_ip_leases_request ON vm_ip_leases (request);
