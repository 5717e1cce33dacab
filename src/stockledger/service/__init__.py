"""Use cases: each public function runs one transaction and returns typed results."""
