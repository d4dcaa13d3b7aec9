"""HTTP/1.1 over h11: the server and client cores behind ``trio_nodehttp.http``."""
