-- The confirming model's template beside each face's fr_feature template: encrypted like it
-- (24-byte XChaCha20 nonce || ciphertext || 16-byte tag, person, face and confirm_model_id in the
-- associated data) under the row's key_id, so key rotation re-encrypts both blobs of a row at once
-- and deleting the row deletes both. Both columns are NULL for a face enrolled without the
-- confirming model: matching then uses its fr_feature template alone.
ALTER TABLE faces
    ADD COLUMN confirm_model_id text
        CONSTRAINT faces_confirm_model_id_len CHECK (char_length(confirm_model_id) BETWEEN 1 AND 64),
    ADD COLUMN confirm_template bytea
        CONSTRAINT faces_confirm_template_len CHECK (octet_length(confirm_template) > 24 + 16),
    ADD CONSTRAINT faces_confirm_both CHECK ((confirm_model_id IS NULL) = (confirm_template IS NULL));
