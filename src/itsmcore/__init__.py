"""itsmcore: an embeddable, pure-domain process engine for IT service management."""
