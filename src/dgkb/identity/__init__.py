"""Identity: who the subject of a contact is, from evidence (DigiD/eHerkenning assertions of the
organisation's broker, under the NL GOV OIDC profile) and the key sets that verify tokens."""
