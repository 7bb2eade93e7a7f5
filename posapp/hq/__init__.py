"""HQ: the brand's server every store syncs with. Imports only posapp.protocol and posapp.domain."""
