"""``http.validate_header_name`` and ``http.validate_header_value`` (X1-56, X1-57).

The checks ``res.set_header(name, value)`` makes, callable on their own.
Errors are ``TypeError`` subclasses carrying Node's ``.code`` and message.
Node's originals::

    try {
      validateHeaderName('');
    } catch (err) {
      console.error(err instanceof TypeError); // --> true
      console.error(err.code); // --> 'ERR_INVALID_HTTP_TOKEN'
      console.error(err.message); // --> 'Header name must be a valid HTTP token [""]'
    }

    try {
      validateHeaderValue('x-my-header', undefined);
    } catch (err) {
      console.error(err instanceof TypeError); // --> true
      console.error(err.code === 'ERR_HTTP_INVALID_HEADER_VALUE'); // --> true
      console.error(err.message); // --> 'Invalid value "undefined" for header "x-my-header"'
    }

    try {
      validateHeaderValue('x-my-header', 'oʊmɪɡə');
    } catch (err) {
      console.error(err instanceof TypeError); // --> true
      console.error(err.code === 'ERR_INVALID_CHAR'); // --> true
      console.error(err.message); // --> 'Invalid character in header content ["x-my-header"]'
    }

No server here; ``--self-test`` is accepted (and changes nothing) so that
every example runs the same way.
"""  # noqa: RUF002 (the docs' value is IPA letters, on purpose)

from __future__ import annotations

import argparse

from trio_nodehttp import errors, http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true", help="run and exit (the default)")
    parser.parse_args()

    # X1-56
    try:
        http.validate_header_name("")
    except errors.NodeError as err:  # every error of this package carries Node's .code
        print(isinstance(err, TypeError))  # --> True
        print(err.code)  # --> ERR_INVALID_HTTP_TOKEN
        print(err)  # --> Header name must be a valid HTTP token [""]

    # X1-57; Python's None plays JavaScript's undefined
    try:
        http.validate_header_value("x-my-header", None)
    except errors.NodeError as err:
        print(isinstance(err, TypeError))  # --> True
        print(err.code == "ERR_HTTP_INVALID_HEADER_VALUE")  # --> True
        print(err)  # --> Invalid value "undefined" for header "x-my-header"

    try:
        http.validate_header_value("x-my-header", "oʊmɪɡə")  # noqa: RUF001 (IPA, on purpose)
    except errors.NodeError as err:
        print(isinstance(err, TypeError))  # --> True
        print(err.code == "ERR_INVALID_CHAR")  # --> True
        print(err)  # --> Invalid character in header content ["x-my-header"]


if __name__ == "__main__":
    main()
