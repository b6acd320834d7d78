-- The job store's schema as Verity 0.1.0 created it (Base.metadata.create_all), sqlite.
CREATE TABLE analyses (
	sha256 VARCHAR(64) NOT NULL, 
	pipeline VARCHAR(64) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	progress FLOAT NOT NULL, 
	report TEXT, 
	pictures TEXT, 
	error TEXT, 
	claimed_by VARCHAR(64), 
	heartbeat_at DATETIME, 
	attempts INTEGER NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	PRIMARY KEY (sha256, pipeline)
);

CREATE TABLE api_keys (
	id VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	secret_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (name), 
	UNIQUE (secret_hash)
);

CREATE TABLE jobs (
	id VARCHAR(32) NOT NULL, 
	key_id VARCHAR(32) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	pipeline VARCHAR(64) NOT NULL, 
	size INTEGER NOT NULL, 
	filename VARCHAR(255) NOT NULL, 
	source_url TEXT, 
	blob VARCHAR(255), 
	state VARCHAR(16) NOT NULL, 
	error TEXT, 
	reused BOOLEAN NOT NULL, 
	enqueued BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(key_id) REFERENCES api_keys (id)
);

CREATE INDEX ix_jobs_created_at ON jobs (created_at);

CREATE INDEX ix_jobs_key_id ON jobs (key_id);

CREATE INDEX ix_jobs_sha256 ON jobs (sha256);

CREATE INDEX ix_jobs_state ON jobs (state);
