"""Privacy: erasing a person (and everything personal hanging off them) and keeping them erased."""
