//! Table definitions shared by both backends. Written by hand (not `print-schema`) because the
//! same definitions must describe the SQLite and the PostgreSQL migrations; only types both
//! backends share are used (`BigInt`, `Integer`, `Text`, `Timestamp`, `Bool`, `Date`).

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organisations (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        country -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    people (id) {
        id -> BigInt,
        name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        profession -> Nullable<Text>,
        organisation_id -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        actor_key_id -> Nullable<BigInt>,
        action -> Text,
        entity -> Text,
        entity_id -> BigInt,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        api_key_id -> BigInt,
        idem_key -> Text,
        method -> Text,
        path -> Text,
        request_hash -> Text,
        status -> Integer,
        response_body -> Text,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ideas (id) {
        id -> BigInt,
        title -> Text,
        description -> Nullable<Text>,
        need -> Nullable<Text>,
        kind -> Text,
        innovation_type -> Text,
        received_on -> Date,
        source_organisation_id -> Nullable<BigInt>,
        project_manager_id -> Nullable<BigInt>,
        confidential -> Bool,
        stage -> Text,
        outcome -> Nullable<Text>,
        recipient_organisation_id -> Nullable<BigInt>,
        rights_decision -> Nullable<Text>,
        rights_decided_on -> Nullable<Date>,
        rights_deadline -> Nullable<Date>,
        expected_results -> Nullable<Text>,
        expected_savings_minor -> Nullable<BigInt>,
        expected_savings_currency -> Nullable<Text>,
        expected_fte_centi -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idea_tags (idea_id, tag) {
        idea_id -> BigInt,
        tag -> Text,
    }
}

diesel::table! {
    idea_inventors (idea_id, person_id) {
        idea_id -> BigInt,
        person_id -> BigInt,
        share_units -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    idea_owners (idea_id, organisation_id) {
        idea_id -> BigInt,
        organisation_id -> BigInt,
        share_units -> BigInt,
        agreement_ref -> Nullable<Text>,
        position -> Integer,
    }
}

diesel::table! {
    idea_events (id) {
        id -> BigInt,
        idea_id -> BigInt,
        at -> Timestamp,
        occurred_on -> Date,
        actor -> Text,
        event -> Text,
        from_stage -> Nullable<Text>,
        from_outcome -> Nullable<Text>,
        to_stage -> Nullable<Text>,
        to_outcome -> Nullable<Text>,
        reason -> Nullable<Text>,
        comment -> Nullable<Text>,
        override_reason -> Nullable<Text>,
        recipient_organisation_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    checklist_answers (id) {
        id -> BigInt,
        idea_id -> BigInt,
        stage -> Text,
        criterion -> Text,
        answer -> Text,
        note -> Nullable<Text>,
        assessor_id -> Nullable<BigInt>,
        assessed_on -> Date,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rights_extensions (id) {
        id -> BigInt,
        idea_id -> BigInt,
        previous_deadline -> Date,
        new_deadline -> Date,
        agreed_on -> Date,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    disclosures (id) {
        id -> BigInt,
        idea_id -> BigInt,
        kind -> Text,
        disclosed_on -> Date,
        venue -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    milestones (id) {
        id -> BigInt,
        idea_id -> BigInt,
        title -> Text,
        due_on -> Date,
        done_on -> Nullable<Date>,
        owner_id -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> BigInt,
        idea_id -> BigInt,
        due_on -> Date,
        done_on -> Nullable<Date>,
        note -> Nullable<Text>,
        result -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    impacts (id) {
        id -> BigInt,
        idea_id -> BigInt,
        recorded_on -> Date,
        savings_minor -> Nullable<BigInt>,
        savings_currency -> Nullable<Text>,
        fte_centi -> Nullable<BigInt>,
        adverse_events_avoided -> Nullable<BigInt>,
        evidence -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    patent_families (id) {
        id -> BigInt,
        idea_id -> BigInt,
        title -> Text,
        internal_ref -> Nullable<Text>,
        status -> Text,
        responsible_id -> Nullable<BigInt>,
        agent_id -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    patent_filings (id) {
        id -> BigInt,
        family_id -> BigInt,
        kind -> Text,
        jurisdiction -> Text,
        parent_id -> Nullable<BigInt>,
        application_number -> Nullable<Text>,
        filing_date -> Nullable<Date>,
        priority_dates -> Text,
        publication_number -> Nullable<Text>,
        publication_date -> Nullable<Date>,
        grant_number -> Nullable<Text>,
        grant_date -> Nullable<Date>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deadline_rules (id) {
        id -> BigInt,
        rule_key -> Text,
        definition -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deadline_marks (id) {
        id -> BigInt,
        filing_id -> BigInt,
        rule_key -> Text,
        due_on -> Date,
        status -> Text,
        note -> Nullable<Text>,
        actor -> Text,
        marked_at -> Timestamp,
    }
}

diesel::table! {
    patent_costs (id) {
        id -> BigInt,
        family_id -> BigInt,
        filing_id -> Nullable<BigInt>,
        incurred_on -> Date,
        amount_minor -> BigInt,
        currency -> Text,
        category -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    app_meta (meta_key) {
        meta_key -> Text,
        meta_value -> Text,
    }
}

diesel::table! {
    agreements (id) {
        id -> BigInt,
        kind -> Text,
        title -> Text,
        counterparty_id -> BigInt,
        status -> Text,
        signed_on -> Nullable<Date>,
        effective_on -> Nullable<Date>,
        expires_on -> Nullable<Date>,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        territory -> Nullable<Text>,
        field_of_use -> Nullable<Text>,
        terms -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agreement_ideas (agreement_id, idea_id) {
        agreement_id -> BigInt,
        idea_id -> BigInt,
    }
}

diesel::table! {
    income (id) {
        id -> BigInt,
        agreement_id -> Nullable<BigInt>,
        idea_id -> BigInt,
        kind -> Text,
        received_on -> Date,
        amount_minor -> BigInt,
        currency -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    distribution_policies (id) {
        id -> BigInt,
        name -> Text,
        basis -> Text,
        inventors_weight -> BigInt,
        department_weight -> BigInt,
        institution_weight -> BigInt,
        institution_id -> Nullable<BigInt>,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    distributions (id) {
        id -> BigInt,
        income_id -> BigInt,
        live_income_id -> Nullable<BigInt>,
        policy_id -> BigInt,
        reverses_id -> Nullable<BigInt>,
        gross_minor -> BigInt,
        costs_deducted_minor -> BigInt,
        distributable_minor -> BigInt,
        currency -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payout_lines (id) {
        id -> BigInt,
        distribution_id -> BigInt,
        recipient_kind -> Text,
        person_id -> Nullable<BigInt>,
        organisation_id -> Nullable<BigInt>,
        amount_minor -> BigInt,
        currency -> Text,
        basis -> Text,
    }
}

diesel::table! {
    royalty_statements (id) {
        id -> BigInt,
        agreement_id -> BigInt,
        period_start -> Date,
        period_end -> Date,
        currency -> Text,
        net_sales_minor -> BigInt,
        royalty_minor -> BigInt,
        true_up_minor -> BigInt,
        due_minor -> BigInt,
        invoiced_minor -> Nullable<BigInt>,
        received_minor -> BigInt,
        last_received_on -> Nullable<Date>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    obligations (id) {
        id -> BigInt,
        agreement_id -> BigInt,
        description -> Text,
        due_on -> Date,
        met_on -> Nullable<Date>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agreement_families (agreement_id, family_id) {
        agreement_id -> BigInt,
        family_id -> BigInt,
    }
}

diesel::joinable!(people -> organisations (organisation_id));
diesel::joinable!(idea_tags -> ideas (idea_id));
diesel::joinable!(idea_inventors -> ideas (idea_id));
diesel::joinable!(idea_inventors -> people (person_id));
diesel::joinable!(idea_owners -> ideas (idea_id));
diesel::joinable!(idea_owners -> organisations (organisation_id));
diesel::joinable!(idea_events -> ideas (idea_id));
diesel::joinable!(checklist_answers -> ideas (idea_id));
diesel::joinable!(rights_extensions -> ideas (idea_id));
diesel::joinable!(disclosures -> ideas (idea_id));
diesel::joinable!(milestones -> ideas (idea_id));
diesel::joinable!(follow_ups -> ideas (idea_id));
diesel::joinable!(impacts -> ideas (idea_id));
diesel::joinable!(patent_families -> ideas (idea_id));
diesel::joinable!(patent_filings -> patent_families (family_id));
diesel::joinable!(patent_costs -> patent_families (family_id));
diesel::joinable!(deadline_marks -> patent_filings (filing_id));
diesel::joinable!(agreement_ideas -> agreements (agreement_id));
diesel::joinable!(royalty_statements -> agreements (agreement_id));
diesel::joinable!(obligations -> agreements (agreement_id));
diesel::joinable!(agreement_ideas -> ideas (idea_id));
diesel::joinable!(income -> ideas (idea_id));
diesel::joinable!(payout_lines -> distributions (distribution_id));
diesel::joinable!(payout_lines -> people (person_id));
diesel::joinable!(distributions -> income (income_id));
diesel::table! {
    event_counter (id) {
        id -> Integer,
        last_seq -> BigInt,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        event_type -> Text,
        entity -> Text,
        entity_id -> BigInt,
        data_json -> Text,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    funding_applications (id) {
        id -> BigInt,
        title -> Text,
        funder_id -> BigInt,
        programme -> Text,
        programme_kind -> Text,
        idea_id -> Nullable<BigInt>,
        currency -> Text,
        amount_applied_minor -> BigInt,
        own_cofinancing_minor -> Nullable<BigInt>,
        grant_rate_bp -> Nullable<BigInt>,
        amount_awarded_minor -> Nullable<BigInt>,
        status -> Text,
        submitted_on -> Nullable<Date>,
        decided_on -> Nullable<Date>,
        withdrawn_on -> Nullable<Date>,
        project_start -> Nullable<Date>,
        project_end -> Nullable<Date>,
        funder_reference -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    funding_payments (id) {
        id -> BigInt,
        application_id -> BigInt,
        received_on -> Date,
        amount_minor -> BigInt,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    collaboration_requests (id) {
        id -> BigInt,
        company_id -> BigInt,
        department_id -> Nullable<BigInt>,
        received_on -> Date,
        topic -> Text,
        description -> Nullable<Text>,
        status -> Text,
        agreement_id -> Nullable<BigInt>,
        closed_on -> Nullable<Date>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    integration_refs (id) {
        id -> BigInt,
        system -> Text,
        resource -> Text,
        external_ref -> Text,
        entity_id -> BigInt,
        source_updated_at -> Timestamp,
        payload_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_seq -> BigInt,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_status_code -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        duration_ms -> BigInt,
        status_code -> Nullable<BigInt>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> events (event_seq));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(funding_payments -> funding_applications (application_id));
diesel::table! {
    result_contracts (id) {
        id -> BigInt,
        title -> Text,
        period_start -> Date,
        period_end -> Date,
        status -> Text,
        organisation_id -> Nullable<BigInt>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contract_targets (id) {
        id -> BigInt,
        contract_id -> BigInt,
        position -> BigInt,
        kpi_key -> Text,
        target_value -> Double,
        direction -> Text,
        at_risk_threshold -> Nullable<Double>,
    }
}

diesel::joinable!(contract_targets -> result_contracts (contract_id));
diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    organisations,
    people,
    audit_log,
    idempotency_keys,
    ideas,
    idea_tags,
    idea_inventors,
    idea_owners,
    idea_events,
    checklist_answers,
    rights_extensions,
    disclosures,
    milestones,
    follow_ups,
    impacts,
    patent_families,
    patent_filings,
    deadline_rules,
    deadline_marks,
    patent_costs,
    app_meta,
    agreements,
    agreement_ideas,
    income,
    distribution_policies,
    distributions,
    payout_lines,
    royalty_statements,
    obligations,
    agreement_families,
    events,
    funding_applications,
    funding_payments,
    collaboration_requests,
    integration_refs,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    result_contracts,
    contract_targets,
);
